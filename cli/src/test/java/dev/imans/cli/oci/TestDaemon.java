package dev.imans.cli.oci;

import dev.imans.daemon.Daemon;
import dev.imans.daemon.DaemonConfig;
import dev.imans.daemon.enforce.EnforcementConfig;
import dev.imans.ns.AppraiseSetting;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real {@code imans daemon} in this JVM, with its control filesystem, state and audit log under a
 * fresh directory in /run. With enforcement it marks only tmpfs filesystems mounted inside registered
 * namespaces, so the host's own files are never held up.
 */
final class TestDaemon implements AutoCloseable {
    final Path base = Path.of("/run/imans-oci-test-" + UUID.randomUUID());
    final Path control = base.resolve("ima");
    final Path auditLog = base.resolve("audit.log");
    final Daemon daemon;

    TestDaemon(boolean enforce) throws IOException {
        this(enforce ? Set.of("tmpfs") : Set.of());
    }

    /** Enforcing on filesystems of {@code types} that registered namespaces see; none: no enforcement. */
    TestDaemon(Set<String> types) throws IOException {
        Files.createDirectories(base);
        DaemonConfig config = new DaemonConfig(control, false, base.resolve("state"), Optional.of(auditLog),
                AppraiseSetting.ENFORCE);
        if (!types.isEmpty()) {
            config = config.withEnforcement(EnforcementConfig.defaults().withFilesystems(types, true));
        }
        daemon = Daemon.start(config);
    }

    /** {@code .imans/namespaces}: {@code nsid mode rules processes} per line. */
    String namespaces() throws IOException {
        return Files.readString(control.resolve(".imans/namespaces"));
    }

    String policy(String nsid) throws IOException {
        return Files.readString(control.resolve(nsid).resolve("policy"));
    }

    @Override
    public void close() throws IOException, InterruptedException {
        daemon.close();
        if (Files.readString(Path.of("/proc/self/mountinfo")).contains(" " + control + " ")) {
            new ProcessBuilder("umount", "-l", control.toString()).start().waitFor(10, TimeUnit.SECONDS);
        }
        try (Stream<Path> s = Files.walk(base)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
