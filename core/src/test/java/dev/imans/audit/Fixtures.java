package dev.imans.audit;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** Test fixtures copied from the real kernel's captures. */
final class Fixtures {
    private Fixtures() {
    }

    static List<String> lines(String resource) {
        try (InputStream in = Fixtures.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource " + resource);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The 6.1 kernel's integrity records, dmesg prefix and all. */
    static List<String> kernelRecords() {
        return lines("kernel-6.1-records.txt").stream().filter(l -> !l.startsWith("#")).toList();
    }

    /** A captured line without its {@code [  time] audit: } prefix. */
    static String withoutKmsgPrefix(String line) {
        return line.substring(line.indexOf("audit: ") + "audit: ".length());
    }
}
