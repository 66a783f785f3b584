package dev.imans.daemon.enforce;

import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Run in a child JVM: overwrites the first byte of a file through a shared writable mapping (no
 * write(2), so no FS_MODIFY reaches the kernel's ignore marks), forces it, and exits.
 */
public final class MmapWriter {
    private MmapWriter() {}

    public static void main(String[] args) throws Exception {
        try (FileChannel ch = FileChannel.open(Path.of(args[0]), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            MappedByteBuffer map = ch.map(FileChannel.MapMode.READ_WRITE, 0, ch.size());
            map.put(0, (byte) 'J');
            map.force();
        }
    }
}
