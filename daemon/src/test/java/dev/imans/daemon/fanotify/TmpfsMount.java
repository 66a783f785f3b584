package dev.imans.daemon.fanotify;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** A fresh tmpfs mounted on a directory for one test, lazily unmounted on close. Needs root. */
final class TmpfsMount implements AutoCloseable {
    final Path dir;

    TmpfsMount(Path dir) throws IOException, InterruptedException {
        this.dir = dir;
        Files.createDirectories(dir);
        Sh.ok("mount", "-t", "tmpfs", "-o", "size=16m", "imans-test", dir.toString());
    }

    @Override
    public void close() throws IOException, InterruptedException {
        Sh.ok("umount", "-l", dir.toString());
    }
}
