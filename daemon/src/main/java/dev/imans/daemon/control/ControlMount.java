package dev.imans.daemon.control;

import dev.imans.daemon.Log;
import dev.imans.daemon.ns.NamespaceService;
import dev.imans.daemon.ns.Proc;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeoutException;
import org.cryptomator.jfuse.api.Fuse;
import org.cryptomator.jfuse.api.FuseBuilder;
import org.cryptomator.jfuse.api.FuseMountFailedException;

/**
 * The control filesystem mounted at a directory; closing it unmounts.
 *
 * <p>Mount options, and why:
 * <ul>
 * <li>{@code -s}: one loop thread, so the handle table needs no locks and libfuse's
 *     per-thread caller context is always the current request's;</li>
 * <li>{@code allow_other,default_permissions}: every local process reaches the files (as with
 *     securityfs) and the kernel checks their mode bits itself; the capability checks are ours;</li>
 * <li>zero cache timeouts: content and the set of namespace directories change behind the
 *     kernel's back, so every path walk asks again and every file reports its current size
 *     (securityfs reports 0; see {@code ControlFs#snapshot} for why this one cannot).</li>
 * </ul>
 */
public final class ControlMount implements AutoCloseable {
    /** Debian's libfuse3 (package libfuse3-3); the JDK does not search the multiarch directory. */
    public static final Path LIBFUSE = Path.of("/lib/x86_64-linux-gnu/libfuse3.so.3");
    static final String FS_NAME = "imans";

    private final Path mountPoint;
    private final Fuse fuse;
    private final ControlFs fs;

    private final FuseConnection connection;

    private ControlMount(Path mountPoint, Fuse fuse, ControlFs fs, FuseConnection connection) {
        this.mountPoint = mountPoint;
        this.fuse = fuse;
        this.fs = fs;
        this.connection = connection;
    }

    /**
     * Mounts the control filesystem at {@code mountPoint} (created if missing); returns once it is live.
     * {@code metrics} renders {@code .imans/metrics}.
     */
    public static ControlMount mount(Path mountPoint, NamespaceService service, MeasurementSource measurements,
                                     Proc proc, java.util.function.Supplier<byte[]> metrics) throws IOException {
        removeStaleMount(mountPoint);
        Files.createDirectories(mountPoint);
        FuseBuilder builder = Fuse.builder();
        builder.setLibraryPath(LIBFUSE.toString());
        ControlFs fs = new ControlFs(service, measurements, proc, new FuseContext(LIBFUSE)::current,
                builder.errno(), metrics);
        Fuse fuse = builder.build(fs);
        try {
            fuse.mount(FS_NAME, mountPoint, "-s", "-o",
                    "fsname=" + FS_NAME + ",subtype=" + FS_NAME + ",allow_other,default_permissions,"
                            + "attr_timeout=0,entry_timeout=0,negative_timeout=0");
        } catch (FuseMountFailedException | IllegalArgumentException e) {
            closeQuietly(fuse);
            throw new IOException("cannot mount the control filesystem at " + mountPoint + ": " + e.getMessage(), e);
        }
        FuseConnection connection;
        try {
            connection = FuseConnection.of(mountPoint);
        } catch (IOException | RuntimeException e) {
            closeQuietly(fuse);
            throw new IOException("cannot stat the control filesystem at " + mountPoint + ": " + e.getMessage(), e);
        }
        Log.info("control filesystem mounted at " + mountPoint);
        return new ControlMount(mountPoint, fuse, fs, connection);
    }

    /**
     * A daemon that died left its mount behind ("Transport endpoint is not connected"); it is
     * detached so the directory can be mounted again.
     */
    private static void removeStaleMount(Path mountPoint) throws IOException {
        String want = mountPoint.toAbsolutePath().normalize().toString();
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            String[] f = line.split(" ");
            int dash = java.util.List.of(f).indexOf("-");
            if (f.length > 4 && dash > 0 && dash + 1 < f.length && f[4].equals(want)
                    && f[dash + 1].equals("fuse." + FS_NAME)) {
                Log.warn("detaching a stale control filesystem mount at " + mountPoint + " left by an earlier run");
                Process p = new ProcessBuilder("umount", "-l", want).redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                try {
                    if (!p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS) || p.exitValue() != 0) {
                        p.destroyForcibly();
                        throw new IOException("cannot detach the stale mount at " + mountPoint);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted", e);
                }
            }
        }
    }

    public Path mountPoint() {
        return mountPoint;
    }

    @Override
    public void close() throws IOException {
        // Detach first: libfuse skips its own unmount once the connection is aborted.
        try {
            SecurityfsOverlay.run("umount", "-l", mountPoint.toString());
        } catch (IOException e) {
            Log.warn(e.getMessage());
        }
        connection.abort();
        try {
            fuse.close();
        } catch (TimeoutException e) {
            throw new IOException("unmounting " + mountPoint + " timed out", e);
        } finally {
            fs.releaseAll();
        }
        Log.info("control filesystem unmounted from " + mountPoint);
    }

    private static void closeQuietly(Fuse fuse) {
        try {
            fuse.close();
        } catch (TimeoutException | RuntimeException e) {
            Log.warn("cleaning up a failed mount: " + e.getMessage());
        }
    }
}
