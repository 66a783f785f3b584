package dev.imans.cli;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A fresh tmpfs mounted on a test's temporary directory (tmpfs keeps security.* xattrs and the
 * tests run as root), unmounted on close. Where mounting is not allowed the directory itself is
 * used, which works on ext4 too.
 */
final class ScratchFs implements AutoCloseable {
    private final Path dir;
    private final boolean mounted;

    ScratchFs(Path dir) throws IOException, InterruptedException {
        this.dir = dir;
        this.mounted = Tools.run("mount", "-t", "tmpfs", "-o", "size=16m", "imans-test", dir.toString()).rc() == 0;
    }

    Path dir() {
        return dir;
    }

    @Override
    public void close() throws IOException {
        if (mounted) {
            try {
                Tools.run("umount", dir.toString());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while unmounting " + dir, e);
            }
        }
    }
}
