package dev.imans.bench;

import java.io.FileInputStream;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The opener of the end-to-end benchmark, run in a child JVM inside the measured namespace:
 * {@code PASSES} times, opens, reads to the end and closes each of {@code COUNT} files
 * {@code DIR/f00000...}, and prints one {@code pass N opens_per_second} line per pass. Timed inside the
 * loop, so the JVM's start-up is not measured.
 *
 * <p>Usage: {@code OpenLoop DIR COUNT PASSES}
 */
public final class OpenLoop {
    private OpenLoop() {}

    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args[0]);
        int count = Integer.parseInt(args[1]);
        int passes = Integer.parseInt(args[2]);
        String[] files = new String[count];
        for (int i = 0; i < count; i++) {
            files[i] = dir.resolve(OpenBenchmark.fileName(i)).toString();
        }
        byte[] buf = new byte[64 * 1024];
        for (int pass = 1; pass <= passes; pass++) {
            long failures = 0;
            long t0 = System.nanoTime();
            for (String f : files) {
                try (FileInputStream in = new FileInputStream(f)) {
                    while (in.read(buf) > 0) {
                        // read to the end, as the workload of spec fanotify.md 3.1 does
                    }
                } catch (IOException e) {
                    failures++;
                }
            }
            long ns = System.nanoTime() - t0;
            System.out.printf("pass %d %.0f %d%n", pass, count * 1e9 / ns, failures);
        }
    }
}
