package dev.imans.daemon.enforce;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Predicate;
import java.util.stream.Stream;

/** This process's open descriptors, by what their /proc/self/fd links name: for tests that nothing leaks. */
final class Descriptors {
    private Descriptors() {}

    /** How many of this process's descriptors link to a name {@code target} accepts. */
    static long count(Predicate<String> target) throws IOException {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return s.filter(p -> {
                try {
                    return target.test(Files.readSymbolicLink(p).toString());
                } catch (IOException e) {
                    return false;
                }
            }).count();
        }
    }
}
