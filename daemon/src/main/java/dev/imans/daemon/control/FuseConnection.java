package dev.imans.daemon.control;

import dev.imans.daemon.Log;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A FUSE connection in the fusectl filesystem ({@code /sys/fs/fuse/connections/<dev>/}), used to
 * abort it on shutdown.
 *
 * <p>Why abort: every mount namespace created while the control filesystem is mounted gets a
 * copy of the mount ({@code unshare -m} does, and the daemon pins such namespaces). Unmounting our
 * copy leaves the connection alive through theirs, so the FUSE loop would never see its end.
 * Aborting ends the connection everywhere: the copies then answer ENOTCONN, as after a crash.
 */
final class FuseConnection {
    static final Path FUSECTL = Path.of("/sys/fs/fuse/connections");

    private final long minor;

    private FuseConnection(long minor) {
        this.minor = minor;
    }

    /** The connection of the FUSE filesystem mounted at {@code mountPoint}. */
    static FuseConnection of(Path mountPoint) throws IOException {
        long dev = (Long) Files.getAttribute(mountPoint, "unix:dev");
        // glibc's dev_t: minor = bits 0-7 and 20-31; FUSE mounts have major 0 and fusectl names the
        // connection by the kernel's s_dev, which is then the minor.
        long devMinor = (dev & 0xff) | ((dev >>> 12) & 0xffff_ff00L);
        return new FuseConnection(devMinor);
    }

    /** Aborts the connection; mounts fusectl for it if needed and unmounts it again after. */
    void abort() {
        boolean mounted = false;
        try {
            if (!SecurityfsOverlay.isMountPoint(FUSECTL, "fusectl")) {
                run("mount", "-t", "fusectl", "fusectl", FUSECTL.toString());
                mounted = true;
            }
            Path abort = FUSECTL.resolve(Long.toString(minor)).resolve("abort");
            if (Files.exists(abort)) {
                Files.writeString(abort, "1");
            }
        } catch (IOException e) {
            Log.warn("cannot abort FUSE connection " + minor + ": " + e.getMessage()
                    + "; copies of the mount in other namespaces may keep it open");
        } finally {
            if (mounted) {
                try {
                    run("umount", FUSECTL.toString());
                } catch (IOException e) {
                    Log.warn(e.getMessage());
                }
            }
        }
    }

    private static void run(String... cmd) throws IOException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        try {
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", cmd) + " failed");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(String.join(" ", cmd) + " interrupted", e);
        }
    }
}
