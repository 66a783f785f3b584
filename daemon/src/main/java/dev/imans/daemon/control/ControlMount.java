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

    private ControlMount(Path mountPoint, Fuse fuse, ControlFs fs) {
        this.mountPoint = mountPoint;
        this.fuse = fuse;
        this.fs = fs;
    }

    /** Mounts the control filesystem at {@code mountPoint} (created if missing); returns once it is live. */
    public static ControlMount mount(Path mountPoint, NamespaceService service, MeasurementSource measurements,
                                     Proc proc) throws IOException {
        Files.createDirectories(mountPoint);
        FuseBuilder builder = Fuse.builder();
        builder.setLibraryPath(LIBFUSE.toString());
        ControlFs fs = new ControlFs(service, measurements, proc, new FuseContext(LIBFUSE)::current,
                builder.errno());
        Fuse fuse = builder.build(fs);
        try {
            fuse.mount(FS_NAME, mountPoint, "-s", "-o",
                    "fsname=" + FS_NAME + ",subtype=" + FS_NAME + ",allow_other,default_permissions,"
                            + "attr_timeout=0,entry_timeout=0,negative_timeout=0");
        } catch (FuseMountFailedException | IllegalArgumentException e) {
            closeQuietly(fuse);
            throw new IOException("cannot mount the control filesystem at " + mountPoint + ": " + e.getMessage(), e);
        }
        Log.info("control filesystem mounted at " + mountPoint);
        return new ControlMount(mountPoint, fuse, fs);
    }

    public Path mountPoint() {
        return mountPoint;
    }

    @Override
    public void close() throws IOException {
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
