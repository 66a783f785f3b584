package dev.imans.daemon.enforce;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Run in a child JVM: overwrites one byte of a file (the first, or {@code args[1]}, with 'J' or the first
 * character of {@code args[2]}) through a shared writable mapping (no write(2), so no FS_MODIFY reaches
 * the kernel's ignore marks), forces it, and exits.
 *
 * <p>With {@code args[3]} "hold": first writes that byte's own value back through the mapping (the
 * content stays, the page is now dirty and writable, so the later write faults no more and moves no
 * timestamp), prints "ready", and waits for a line on its input before the real write.
 */
public final class MmapWriter {
    private MmapWriter() {}

    public static void main(String[] args) throws Exception {
        try (FileChannel ch = FileChannel.open(Path.of(args[0]), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            MappedByteBuffer map = ch.map(FileChannel.MapMode.READ_WRITE, 0, ch.size());
            int at = args.length > 1 ? Integer.parseInt(args[1]) : 0;
            if (args.length > 3 && args[3].equals("hold")) {
                map.put(at, map.get(at));
                System.out.println("ready");
                System.out.flush();
                new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
            }
            map.put(at, (byte) (args.length > 2 ? args[2].charAt(0) : 'J'));
            map.force();
        }
    }
}
