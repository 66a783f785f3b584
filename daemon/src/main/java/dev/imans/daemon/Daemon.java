package dev.imans.daemon;

import dev.imans.audit.AuditEncoder;
import dev.imans.daemon.audit.AuditSinks;
import dev.imans.daemon.audit.AuditWriter;
import dev.imans.daemon.audit.PolicyUpdateAudit;
import dev.imans.daemon.control.ControlMount;
import dev.imans.daemon.enforce.Enforcement;
import dev.imans.daemon.enforce.EnforcementConfig;
import dev.imans.daemon.enforce.NamespaceLineage;
import dev.imans.daemon.enforce.ServiceDirectory;
import dev.imans.daemon.enforce.ServicePolicies;
import dev.imans.daemon.health.Condition;
import dev.imans.daemon.health.Health;
import dev.imans.daemon.measure.MeasurementStore;
import dev.imans.daemon.metrics.DaemonMetrics;
import dev.imans.daemon.metrics.MetricsServer;
import dev.imans.daemon.control.SecurityfsOverlay;
import dev.imans.daemon.ns.DerivedNamespaces;
import dev.imans.daemon.ns.LivenessWatcher;
import dev.imans.daemon.ns.NamespaceService;
import dev.imans.daemon.ns.PolicyUpdateListener;
import dev.imans.daemon.ns.Proc;
import dev.imans.daemon.state.JournalState;
import dev.imans.daemon.state.StateJournal;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * The running daemon: the namespace registry restored from the journal, the measurement lists, the
 * control filesystem, the liveness watcher. {@link #start} returns once the control filesystem is live;
 * {@link #close} undoes everything in reverse order and may be called from a shutdown hook.
 */
public final class Daemon implements AutoCloseable {
    /** How often namespaces are checked for live processes. */
    static final Duration LIVENESS_PERIOD = Duration.ofMillis(500);

    private final DaemonConfig config;
    private final NamespaceService service;
    private final ControlMount control;
    private final SecurityfsOverlay overlay;
    private final LivenessWatcher watcher;
    private final NamespaceLineage lineage;
    private final AuditWriter audit;
    private final Enforcement enforcement;
    private final MeasurementStore measurements;
    private final Health health;
    private final DaemonMetrics metrics;
    private final MetricsServer http;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private boolean closed;

    private Daemon(DaemonConfig config, NamespaceService service, ControlMount control, SecurityfsOverlay overlay,
                   LivenessWatcher watcher, AuditWriter audit, Enforcement enforcement, MeasurementStore measurements,
                   Health health, NamespaceLineage lineage, DaemonMetrics metrics, MetricsServer http) {
        this.metrics = metrics;
        this.http = http;
        this.health = health;
        this.lineage = lineage;
        this.measurements = measurements;
        this.audit = audit;
        this.enforcement = enforcement;
        this.config = config;
        this.service = service;
        this.control = control;
        this.overlay = overlay;
        this.watcher = watcher;
    }

    /**
     * Starts a daemon with {@code config} whose policy update records go to its own audit sinks, with
     * the appraisal records; on failure nothing stays mounted.
     */
    public static Daemon start(DaemonConfig config) throws IOException {
        return start(config, null);
    }

    /**
     * Starts a daemon with {@code config} that tells {@code listener} about policy updates (and writes
     * no policy records itself); on failure nothing stays mounted.
     */
    public static Daemon start(DaemonConfig config, PolicyUpdateListener listener) throws IOException {
        Proc proc = Proc.system();
        StateJournal journal = new StateJournal(config.state());
        JournalState saved = journal.load().orElse(JournalState.empty());
        // Audit records of every kind (policy updates, appraisals) go through one writer thread.
        AuditWriter audit = new AuditWriter(AuditEncoder.of(config.auditFormat()),
                AuditSinks.open(config.auditLog(), config.auditKmsg(), config.auditStderr()));
        Health health = new Health();
        audit.onReopen(why -> health.degrade(Condition.AUDIT_LOG_NOT_REOPENED, "",
                        why + "; records still go to the previous file (send SIGHUP again to retry)"),
                () -> health.recover(Condition.AUDIT_LOG_NOT_REOPENED, ""));
        NamespaceService service = new NamespaceService(config.appraise(), proc, journal,
                listener == null ? new PolicyUpdateAudit(audit) : listener, proc.ownMountNamespace(), health);
        Log.info("starting: control " + config.control() + ", state " + journal.file() + ", appraise "
                + config.appraise());
        service.restore(saved);
        MeasurementStore measurements;
        try {
            measurements = MeasurementStore.open(config.state(), config.imaHash(), config.template(), service.ids(),
                    config.measurementsFsync(), health, config.archive());
        } catch (IOException e) {
            service.releaseAll();
            audit.close();
            health.close();
            throw new IOException("cannot restore measurement lists: " + e.getMessage(), e);
        }
        if (config.tpm().isPresent()) {
            DaemonConfig.TpmAnchorSetting t = config.tpm().get();
            try {
                measurements.anchor(new dev.imans.tpm.TpmClient(dev.imans.tpm.TpmTransport.parse(t.device())), t.pcr(),
                        proc.bootId().orElse("unknown"));
            } catch (IOException | RuntimeException e) {
                measurements.close();
                service.releaseAll();
                audit.close();
                health.close();
                throw new IOException("cannot anchor the measurement lists in PCR " + t.pcr() + " of TPM " + t.device()
                        + ": " + e.getMessage(), e);
            }
        }
        // Before enforcement's listener: a namespace has its list before its first open is judged.
        service.addChangeListener(() -> measurements.sync(service.ids()));
        // Enforcement starts before the control filesystem exists: every registration and policy write
        // then reaches it (a namespace registered in between would otherwise go unenforced).
        Enforcement enforcement = null;
        NamespaceLineage lineage = new NamespaceLineage(proc.ownMountNamespace().inode());
        if (config.enforcement().isPresent()) {
            EnforcementConfig ec = config.enforcement().get();
            try {
                enforcement = Enforcement.start(ec, new ServicePolicies(service, ec),
                        new ServiceDirectory(service, proc, lineage), audit, measurements, health, lineage);
            } catch (IOException | RuntimeException e) {
                measurements.close();
                service.releaseAll();
                audit.close();
                health.close();
                throw new IOException("cannot start enforcement: " + e.getMessage(), e);
            }
            service.addChangeListener(enforcement::policiesChanged);
            service.memfdsJudged(enforcement.memfdFilesystem().marked(),
                    enforcement.memfdFilesystem().execsGuarded());
        }
        ControlMount control = null;
        SecurityfsOverlay overlay = null;
        MetricsServer http = null;
        DaemonMetrics metrics = new DaemonMetrics(service, measurements, java.util.Optional.ofNullable(enforcement),
                audit, health);
        try {
            control = ControlMount.mount(config.control(), service, measurements, proc, metrics::renderBytes);
            if (config.mountSecurityfs()) {
                overlay = SecurityfsOverlay.install(DaemonConfig.SECURITYFS, config.control(),
                        config.control().resolveSibling("securityfs-staging"));
            }
            if (config.metricsListen().isPresent()) {
                http = MetricsServer.start(config.metricsListen().get(), metrics::render);
            }
        } catch (IOException | RuntimeException e) {
            if (overlay != null) {
                overlay.close();
            }
            if (control != null) {
                try {
                    control.close();
                } catch (IOException ce) {
                    Log.error(ce.getMessage());
                }
            }
            if (enforcement != null) {
                enforcement.close();
            }
            measurements.close();
            service.releaseAll();
            audit.close();
            health.close();
            throw e;
        }
        LivenessWatcher watcher = new LivenessWatcher(service, proc, LIVENESS_PERIOD,
                enforcement == null ? DerivedNamespaces.NONE : lineage);
        watcher.start();
        Log.info("ready: " + config.control().resolve("namespaces"));
        return new Daemon(config, service, control, overlay, watcher, audit, enforcement, measurements, health, lineage,
                metrics, http);
    }

    /** The counters and states in the Prometheus text format ({@code .imans/metrics}). */
    public DaemonMetrics metrics() {
        return metrics;
    }

    /**
     * One line for a service manager's status: what is enforced, and whether anything is degraded
     * (e.g. {@code enforcing on 3 filesystem(s), 2 namespace(s) registered; degraded: state-unsaved}).
     */
    public String summary() {
        StringBuilder b = new StringBuilder();
        if (enforcement == null) {
            b.append("control files only (no enforcement)");
        } else if (!alive()) {
            b.append("ENFORCEMENT STOPPED (fanotify reader failed; opens are not checked)");
        } else {
            b.append("enforcing on ").append(enforcement.engine().marked().size()).append(" filesystem(s)");
        }
        b.append(", ").append(service.ids().size()).append(" namespace(s) registered");
        List<String> degraded = health.active().stream().map(d -> d.condition().label()).distinct().toList();
        b.append(degraded.isEmpty() ? "; health ok" : "; degraded: " + String.join(", ", degraded));
        return b.toString();
    }

    /**
     * Whether this daemon is doing its job: with enforcement, its fanotify reader still runs (when it
     * stops, the group is released and the kernel allows every open unchecked).
     */
    public boolean alive() {
        return enforcement == null || enforcement.engine().readerFailure() == null;
    }

    /** The HTTP metrics endpoint, when {@code --metrics-listen} asked for one. */
    public java.util.Optional<MetricsServer> metricsServer() {
        return java.util.Optional.ofNullable(http);
    }

    /** The degraded states ({@code .imans/health}). */
    public Health health() {
        return health;
    }

    /** Reopens the audit log file (SIGHUP, after log rotation); records are neither lost nor split. */
    public void reopenLogs() {
        Log.info("reopening the audit log");
        audit.reopen();
    }

    /** Reads the host's keys again ({@code --key} files and {@code --key-dir}). */
    public interface HostKeyLoader {
        dev.imans.crypto.Keyring load() throws IOException;
    }

    private volatile HostKeyLoader hostKeyLoader;

    /** Where {@link #reloadHostKeys} reads the host's keys from (the command line's key options). */
    public void hostKeysFrom(HostKeyLoader loader) {
        this.hostKeyLoader = loader;
    }

    /**
     * SIGHUP: reads the host's keys again and puts them in force for every policy before returning, so
     * a certificate taken out of the key directory (a compromised key) stops verifying without a
     * restart, which would leave opens unjudged meanwhile. Keys that cannot be read leave the keys in
     * force as they were.
     */
    public void reloadHostKeys() {
        HostKeyLoader loader = hostKeyLoader;
        if (loader == null || enforcement == null) {
            return;
        }
        dev.imans.crypto.Keyring keys;
        try {
            keys = loader.load();
        } catch (IOException | RuntimeException e) {
            Log.error("host keys not reloaded: " + e.getMessage() + "; the keys in force stay");
            return;
        }
        List<String> failures = service.replaceHostKeys(keys);
        if (failures.isEmpty()) {
            Log.info("host keys reloaded: " + keys.size() + " key(s) in force");
        } else {
            Log.error("host keys reloaded, but putting them in force failed: " + String.join("; ", failures));
        }
    }

    /**
     * The state report (SIGUSR1): health, the host and every registered namespace with its mode and
     * rule count, the engine's counters, the marked filesystems and the audit writer's counts.
     */
    public List<String> report() {
        List<String> out = new ArrayList<>();
        List<String> degraded = health.active().stream().map(d -> d.line()).toList();
        out.add("health: " + (degraded.isEmpty() ? "ok" : degraded.size() + " degraded state(s)"));
        degraded.forEach(d -> out.add("  " + d));
        out.add("host: mode " + service.hostMode() + ", "
                + service.committedPolicy(dev.imans.ns.PolicyTarget.HOST).map(p -> p.rules().size()).orElse(0)
                + " rule(s)");
        for (NamespaceService.Listed l : service.list()) {
            out.add("namespace " + l.status().id() + ": mode " + l.status().mode() + ", " + l.status().rules()
                    + " rule(s), " + l.processes() + " process(es)");
        }
        if (enforcement == null) {
            out.add("enforcement: off");
        } else {
            out.add("enforcement: " + enforcement.metrics());
            StringBuilder engine = new StringBuilder("engine:");
            for (Map.Entry<String, Long> e : enforcement.engine().metrics().snapshot().entrySet()) {
                engine.append(' ').append(e.getKey()).append('=').append(e.getValue());
            }
            out.add(engine.toString());
            Map<Path, dev.imans.daemon.fanotify.MarkType> marked = enforcement.engine().marked();
            out.add("marked filesystems: " + marked.size());
            marked.forEach((p, t) -> out.add("  " + p + " (" + t.name().toLowerCase(java.util.Locale.ROOT) + " mark)"));
        }
        measurements.tpmAnchor().ifPresent(a -> out.add("tpm anchor: " + a.stats().line()));
        out.add("audit: " + audit.written() + " record(s) written, " + audit.dropped() + " dropped");
        return out;
    }

    public DaemonConfig config() {
        return config;
    }

    /** The enforcement engine, when this daemon enforces. */
    public java.util.Optional<Enforcement> enforcement() {
        return java.util.Optional.ofNullable(enforcement);
    }

    /** The namespace registry and policies the control filesystem changes. */
    public NamespaceService namespaces() {
        return service;
    }

    /** The measurement lists. */
    public MeasurementStore measurements() {
        return measurements;
    }

    /** The audit writer every record goes through. */
    public AuditWriter audit() {
        return audit;
    }

    /** Blocks until {@link #close} has finished. */
    public void awaitStop() throws InterruptedException {
        stopped.await();
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        Log.info("stopping");
        if (http != null) {
            http.close();
        }
        // No retry may act on what is being taken down.
        health.close();
        // First release every opener waiting for a verdict: nothing below may wait on one.
        if (enforcement != null) {
            enforcement.close();
        }
        watcher.close();
        // Descendants' pins hold copies of the control mount too (see below).
        lineage.close();
        // Every entry of an answered open is in its list's file already: this only closes the files.
        measurements.close();
        if (overlay != null) {
            overlay.close();
        }
        // Release the namespace pins before unmounting: a pinned namespace keeps its copy of the
        // control mount, and with it the FUSE connection, alive, so the unmount would wait for it.
        service.releaseAll();
        try {
            control.close();
        } catch (IOException e) {
            Log.error(e.getMessage());
        }
        audit.close();
        Log.info("stopped");
        stopped.countDown();
    }
}
