package dev.imans.daemon.enforce;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Run in a child JVM: opens {@code args[0]} for writing only (no create, no truncate) and closes it.
 * The JVM's {@code main} runs on a thread of its own, not the thread group's leader, so the open comes
 * from a process whose leader is elsewhere (in {@code pthread_join}).
 */
public final class WriteOpener {
    private WriteOpener() {}

    public static void main(String[] args) throws Exception {
        try (var out = Files.newOutputStream(Path.of(args[0]), StandardOpenOption.WRITE)) {
            System.out.println("opened");
        }
    }
}
