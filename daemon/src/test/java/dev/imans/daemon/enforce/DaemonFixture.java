package dev.imans.daemon.enforce;

import dev.imans.audit.AuditFormat;
import dev.imans.audit.AuditRecordParser;
import dev.imans.audit.ParsedRecord;
import dev.imans.crypto.Keyring;
import dev.imans.daemon.Daemon;
import dev.imans.daemon.DaemonConfig;
import dev.imans.ns.AppraiseSetting;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

/**
 * A real daemon with enforcement, in this JVM, with its control filesystem, state and audit log under a
 * fresh directory in /run (not /tmp: test namespaces mount their own tmpfs there). It marks only
 * tmpfs filesystems mounted inside registered namespaces, so tests never hold up the host's own files.
 */
final class DaemonFixture implements AutoCloseable {
    final Path base = Path.of("/run/imans-test-" + UUID.randomUUID());
    final Path control = base.resolve("ima");
    final Path auditLog = base.resolve("audit.log");
    private final DaemonConfig config;
    private final List<Namespace> namespaces = new ArrayList<>();
    Daemon daemon;

    /** Prepares the fixture's directory before the daemon starts (e.g. mounts its state directory). */
    interface Prepare {
        void at(Path base) throws IOException;
    }

    DaemonFixture(AppraiseSetting mode, Set<String> rehash, AuditFormat format) throws IOException {
        this(mode, rehash, format, b -> { });
    }

    DaemonFixture(AppraiseSetting mode, Set<String> rehash, AuditFormat format, Prepare prepare) throws IOException {
        this(mode, rehash, format, Keyring.empty(), Set.of("tmpfs"), prepare);
    }

    DaemonFixture(AppraiseSetting mode, Set<String> rehash, AuditFormat format, Keyring keyring) throws IOException {
        this(mode, rehash, format, keyring, Set.of("tmpfs"), b -> { });
    }

    /** A daemon marking the filesystems of {@code fsTypes} mounted inside registered namespaces. */
    DaemonFixture(AppraiseSetting mode, Set<String> rehash, AuditFormat format, Set<String> fsTypes)
            throws IOException {
        this(mode, rehash, format, Keyring.empty(), fsTypes, b -> { });
    }

    DaemonFixture(AppraiseSetting mode, Set<String> rehash, AuditFormat format, Keyring keyring,
                  Set<String> fsTypes, Prepare prepare)
            throws IOException {
        this(mode, rehash, format, keyring, fsTypes, prepare, UnaryOperator.identity());
    }

    /** A daemon with the default settings, then {@code options} applied to its configuration. */
    DaemonFixture(AppraiseSetting mode, UnaryOperator<DaemonConfig> options) throws IOException {
        this(mode, Set.of(), AuditFormat.SEED, Keyring.empty(), Set.of("tmpfs"), b -> { }, options);
    }

    private DaemonFixture(AppraiseSetting mode, Set<String> rehash, AuditFormat format, Keyring keyring,
                          Set<String> fsTypes, Prepare prepare, UnaryOperator<DaemonConfig> options)
            throws IOException {
        Files.createDirectories(base);
        prepare.at(base);
        config = options.apply(new DaemonConfig(control, false, base.resolve("state"), Optional.of(auditLog), mode)
                .withAudit(Optional.of(auditLog), format, false, false)
                .withEnforcement(EnforcementConfig.defaults().withFilesystems(fsTypes, true)
                        .withRehashOnClose(rehash).withKeyring(keyring)));
        daemon = Daemon.start(config);
    }

    DaemonFixture(AppraiseSetting mode, Set<String> rehash) throws IOException {
        this(mode, rehash, AuditFormat.SEED);
    }

    DaemonFixture(AppraiseSetting mode) throws IOException {
        this(mode, Set.of());
    }

    /** Stops the daemon and starts it again with the same control directory and state. */
    void restart() throws IOException {
        daemon.close();
        daemon = Daemon.start(config);
    }

    /** Stops the daemon (its state stays); {@link #start} starts it again. */
    void stop() {
        daemon.close();
    }

    /** Starts the daemon again after {@link #stop}, with the same control directory and state. */
    void start() throws IOException {
        daemon = Daemon.start(config);
    }

    Enforcement enforcement() {
        return daemon.enforcement().orElseThrow();
    }

    /** A new namespace (closed with this fixture, before the daemon), registered, without policy. */
    Namespace registered() throws IOException, InterruptedException {
        Namespace ns = fresh();
        register(ns);
        return ns;
    }

    /** A new namespace, not registered, closed with this fixture before the daemon. */
    Namespace fresh() throws IOException, InterruptedException {
        Namespace ns = new Namespace();
        namespaces.add(ns);
        return ns;
    }

    /** A new registered namespace with {@code policy} written to its policy file. */
    Namespace namespace(String policy) throws IOException, InterruptedException {
        Namespace ns = registered();
        policy(ns, policy);
        return ns;
    }

    void register(Namespace ns) throws IOException {
        Files.writeString(control.resolve("namespaces"), ns.nsid + "\n");
    }

    /** Writes {@code text} to the namespace's policy file: in force when the write's close returns. */
    void policy(Namespace ns, String text) throws IOException {
        Files.writeString(control.resolve(ns.nsid + "/policy"), text);
    }

    /** The raw lines of the audit log so far. */
    List<String> auditLines() throws IOException, InterruptedException {
        daemon.audit().awaitWritten(Duration.ofSeconds(5));
        return Files.exists(auditLog) ? Files.readAllLines(auditLog, StandardCharsets.UTF_8) : List.of();
    }

    /** Every integrity-data (1800) record written so far, parsed. */
    List<ParsedRecord> appraisalRecords() throws IOException, InterruptedException {
        daemon.audit().awaitWritten(Duration.ofSeconds(5));
        if (!Files.exists(auditLog)) {
            return List.of();
        }
        return Files.readAllLines(auditLog, StandardCharsets.UTF_8).stream()
                .filter(l -> l.startsWith("type=1800 "))
                .map(AuditRecordParser::parse)
                .toList();
    }

    @Override
    public void close() throws IOException {
        for (Namespace ns : namespaces) {
            try {
                ns.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        daemon.close();
        try (Stream<Path> s = Files.walk(base)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
