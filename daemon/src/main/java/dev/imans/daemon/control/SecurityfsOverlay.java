package dev.imans.daemon.control;

import dev.imans.daemon.Log;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Makes the control filesystem appear at {@code /sys/kernel/security/ima} on a kernel without IMA,
 * so tools that hard-code the securityfs path (the seed's shell lines) work unchanged.
 *
 * <p>securityfs lets no one create entries from userspace, so {@code ima} cannot be made inside
 * it. Instead: securityfs is mounted at {@code /sys/kernel/security} if it is not already; a
 * second view of it goes to a staging directory; a tmpfs is mounted over
 * {@code /sys/kernel/security}, every securityfs entry is bind-mounted back into it under its own
 * name (so {@code lockdown} and friends stay where they were), an {@code ima} directory is made and
 * the control directory is bind-mounted onto it, and the tmpfs is made read-only. Closing detaches
 * the tmpfs with everything on it and unmounts securityfs if it was mounted here.
 *
 * <p>Mounts are made with util-linux's {@code mount}/{@code umount}; they run in the daemon's mount
 * namespace, so other namespaces see them only where propagation carries them.
 */
public final class SecurityfsOverlay implements AutoCloseable {
    private final Path securityfs;
    private final boolean mountedSecurityfs;
    private boolean closed;

    private SecurityfsOverlay(Path securityfs, boolean mountedSecurityfs) {
        this.securityfs = securityfs;
        this.mountedSecurityfs = mountedSecurityfs;
    }

    /**
     * Sets the overlay up at {@code securityfs} (normally {@code /sys/kernel/security}).
     *
     * @throws IOException if the kernel has IMA of its own, or a mount fails (then whatever was
     *     mounted is undone)
     */
    public static SecurityfsOverlay install(Path securityfs, Path control, Path runDir) throws IOException {
        boolean mountedHere = false;
        if (!isMountPoint(securityfs, "securityfs")) {
            run("mount", "-t", "securityfs", "securityfs", securityfs.toString());
            mountedHere = true;
        }
        Path staging = null;
        boolean tmpfsMounted = false;
        try {
            if (Files.exists(securityfs.resolve("ima"))) {
                throw new IOException("the kernel has IMA of its own (" + securityfs.resolve("ima")
                        + " exists); --mount-securityfs would hide it");
            }
            Files.createDirectories(runDir);
            staging = Files.createTempDirectory(runDir, "securityfs.");
            run("mount", "-t", "securityfs", "securityfs", staging.toString());
            List<Path> entries;
            try (Stream<Path> s = Files.list(staging)) {
                entries = new ArrayList<>(s.toList());
            }
            run("mount", "-t", "tmpfs", "-o", "mode=0755,nosuid,nodev,noexec,size=64k", "imans-securityfs",
                    securityfs.toString());
            tmpfsMounted = true;
            for (Path e : entries) {
                Path target = securityfs.resolve(e.getFileName().toString());
                if (Files.isDirectory(e)) {
                    Files.createDirectory(target);
                } else {
                    Files.createFile(target);
                }
                run("mount", "--bind", e.toString(), target.toString());
            }
            Path ima = Files.createDirectory(securityfs.resolve("ima"));
            run("mount", "--bind", control.toString(), ima.toString());
            run("mount", "-o", "remount,ro", securityfs.toString());
            run("umount", staging.toString());
            Files.delete(staging);
            Log.info("control filesystem also at " + ima + " (tmpfs over " + securityfs + " with "
                    + entries.size() + " securityfs entr" + (entries.size() == 1 ? "y" : "ies") + " bound back)");
            return new SecurityfsOverlay(securityfs, mountedHere);
        } catch (IOException | RuntimeException e) {
            if (tmpfsMounted) {
                runQuietly("umount", "-l", securityfs.toString());
            }
            if (staging != null) {
                runQuietly("umount", "-l", staging.toString());
                Files.deleteIfExists(staging);
            }
            if (mountedHere) {
                runQuietly("umount", securityfs.toString());
            }
            throw e;
        }
    }

    /** Undoes the overlay; must run before the control filesystem is unmounted (the bind holds it). */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        runQuietly("umount", "-l", securityfs.toString());
        if (mountedSecurityfs) {
            runQuietly("umount", securityfs.toString());
        }
        Log.info("removed the control filesystem from " + securityfs.resolve("ima"));
    }

    /** Whether {@code dir} is the mount point of a filesystem of type {@code type}, per mountinfo. */
    static boolean isMountPoint(Path dir, String type) throws IOException {
        String want = dir.toRealPath().toString();
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            String[] f = line.split(" ");
            int dash = List.of(f).indexOf("-");
            if (f.length > 4 && dash > 0 && dash + 1 < f.length && unescape(f[4]).equals(want)
                    && f[dash + 1].equals(type)) {
                return true;
            }
        }
        return false;
    }

    private static String unescape(String s) {
        return s.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\");
    }

    static void run(String... cmd) throws IOException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try {
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", cmd) + ": timed out");
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException(String.join(" ", cmd) + ": interrupted", e);
        }
        if (p.exitValue() != 0) {
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            throw new IOException(String.join(" ", cmd) + " failed (exit " + p.exitValue() + "): " + out);
        }
    }

    private static void runQuietly(String... cmd) {
        try {
            run(cmd);
        } catch (IOException e) {
            Log.warn(e.getMessage());
        }
    }
}
