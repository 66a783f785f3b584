package dev.imans.cli;

import dev.imans.audit.AuditFormat;
import dev.imans.crypto.HashAlgo;
import dev.imans.crypto.ImaCertificate;
import dev.imans.crypto.KeyDirectory;
import dev.imans.crypto.KeyFiles;
import dev.imans.crypto.Keyring;
import dev.imans.crypto.VerificationKey;
import dev.imans.daemon.audit.FileAuditSink;
import dev.imans.daemon.enforce.EnforcementConfig;
import dev.imans.measure.Template;
import dev.imans.measure.TemplateException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import dev.imans.daemon.Daemon;
import dev.imans.daemon.DaemonConfig;
import dev.imans.daemon.measure.ArchivePolicy;
import dev.imans.daemon.DaemonSignals;
import dev.imans.daemon.Log;
import dev.imans.ns.AppraiseSetting;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import dev.imans.daemon.Log;
import dev.imans.daemon.metrics.MetricsServer;
import dev.imans.daemon.systemd.SdNotify;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code imans daemon}: runs in the foreground, logs to standard error, serves the control
 * filesystem, and stops cleanly on SIGTERM or SIGINT (a shutdown hook unmounts everything). SIGHUP
 * reopens the audit log, SIGUSR1 logs a state report; see {@link DaemonSignals} for the others.
 */
@Command(name = "daemon", mixinStandardHelpOptions = true,
        description = {"Run the imans daemon (enforcement, registry, control filesystem) in the foreground.",
            "It appraises and measures opens with fanotify, keeps the namespace registry, the measurement lists",
            "and their state, and serves the control filesystem (a copy of securityfs's ima/ directory).",
            "Ready when DIR/namespaces exists (and, under systemd, once it has sent READY=1).",
            "Stops cleanly on SIGTERM or SIGINT; SIGHUP reopens the audit log, SIGUSR1 logs a state report.",
            "Settings come from the command line, then from the config file (key = value lines named like the long"
                    + " options, without --; default /etc/imans/imans.conf, read if it exists)."})
public final class DaemonCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--control", paramLabel = "DIR",
            description = "Where to mount the control filesystem (default: ${DEFAULT-VALUE}).")
    Path control = DaemonConfig.DEFAULT_CONTROL;

    @Option(names = "--mount-securityfs",
            description = "Also show the control files at /sys/kernel/security/ima (kernels without IMA only).")
    boolean mountSecurityfs;

    @Option(names = "--state", paramLabel = "DIR",
            description = "Directory of the state journal (default: ${DEFAULT-VALUE}).")
    Path state = DaemonConfig.DEFAULT_STATE;

    @Option(names = "--audit-log", paramLabel = "FILE",
            description = "Append integrity audit records (appraisal failures, policy updates) to FILE"
                    + " (default: ${DEFAULT-VALUE}).")
    Path auditLog = FileAuditSink.DEFAULT;

    @Option(names = "--audit-kmsg", description = "Also write audit records to the kernel log (/dev/kmsg).")
    boolean auditKmsg;

    @Option(names = "--audit-stderr", description = "Also write audit records to standard error.")
    boolean auditStderr;

    @Option(names = "--audit-format", paramLabel = "FORMAT",
            description = "seed (the 2017 namespace patches' text, default) or current (today's kernel).")
    String auditFormat = "seed";

    @Option(names = "--no-enforce",
            description = "Serve the registry and control files only; take no fanotify permission events.")
    boolean noEnforce;

    @Option(names = "--rehash-on-close", paramLabel = "SCOPES", split = ",",
            description = {"Re-hash security.ima when a writer whose open was appraised closes the file, as",
                "mainline IMA does: host, all, or namespace ids (default: none; a changed file then stays",
                "unopenable until labelled again, as in the seed)."})
    Set<String> rehashOnClose = Set.of();

    @Option(names = "--watch-fs", paramLabel = "TYPES", split = ",",
            description = "Mark only filesystems of these types (e.g. tmpfs,ext4; default: all but pseudo filesystems).")
    Set<String> watchFs = Set.of();

    @Option(names = "--namespace-filesystems-only",
            description = "Mark only what registered namespaces see: filesystems mounted inside them, and host"
                    + " filesystems they see (a container's root) that a policy judging them may cover.")
    boolean namespaceFilesystemsOnly;

    @Option(names = "--no-rehearsal",
            description = "Skip the start's rehearsal (a few thousand opens of files of its own, judged in a private"
                    + " mount namespace, so the first containers' opens find compiled code); the rest of the warm-up"
                    + " still runs.")
    boolean noRehearsal;

    @Option(names = "--key", paramLabel = "FILE",
            description = "Public key or X.509 certificate (PEM or DER) that verifies security.ima signatures; repeatable.")
    List<Path> keys = List.of();

    /** Where boot scripts keep the certificates they load into the kernel's .ima keyring. */
    static final Path DEFAULT_KEY_DIR = Path.of("/etc/keys/ima");

    @Option(names = "--key-dir", paramLabel = "DIR",
            description = {"X.509 certificates (DER or PEM, one or more per file) that verify security.ima signatures",
                "for the host policy and every namespace's (default: ${DEFAULT-VALUE}; a missing directory holds",
                "no keys). Each file that is not a usable certificate is logged with the reason."})
    Path keyDir = DEFAULT_KEY_DIR;

    @Option(names = "--no-key-dir", description = "Read no key directory (only --key).")
    boolean noKeyDir;

    @Option(names = "--hash", paramLabel = "ALGO", converter = AlgoConverter.class,
            description = "The kernel's ima_hash=: file digests of measurements, and what fix mode writes"
                    + " (default: sha256).")
    HashAlgo hash = HashAlgo.SHA256;

    @Option(names = "--template", paramLabel = "NAME",
            description = "The kernel's ima_template=: template of measure rules without template= and of"
                    + " boot_aggregate; a built-in name or format such as ima-sig or d-ng|n-ng (default: ima-ng).")
    String template = DaemonConfig.DEFAULT_TEMPLATE.name();

    @Option(names = "--measurements-fsync",
            description = {"fsync a measurement list file after each write of entries, so the entry of every",
                    "answered open survives a power failure too (without it, entries survive the daemon being",
                    "killed but not the machine losing power; each measured open then waits for the disk)."})
    boolean measurementsFsync;

    @Option(names = "--archive-keep", paramLabel = "N",
            description = "Measurement lists of ended namespaces kept under the state directory (the oldest beyond"
                    + " N are deleted; 0 keeps none). Default: 100.")
    int archiveKeep = ArchivePolicy.DEFAULT.keep();

    @Option(names = "--archive-days", paramLabel = "DAYS",
            description = "Delete archived measurement lists older than DAYS days. Default: 30.")
    long archiveDays = ArchivePolicy.DEFAULT.maxAge().toDays();

    @Option(names = "--config", paramLabel = "FILE",
            description = "Read settings from FILE (default: /etc/imans/imans.conf if it exists; /dev/null reads none).")
    Path config;

    @Option(names = "--log-level", paramLabel = "LEVEL",
            description = "The least severe level logged: error, warn, info (default) or debug. Under systemd's"
                    + " journal the lines carry priority prefixes instead of timestamps.")
    String logLevel = "info";

    @Option(names = "--metrics-listen", paramLabel = "ADDR:PORT",
            description = "Also serve the metrics of .imans/metrics over HTTP at http://ADDR:PORT/metrics; a port"
                    + " alone listens on 127.0.0.1 (default: off).")
    String metricsListen;

    @Option(names = "--tpm", paramLabel = "DEVICE",
            description = {"Anchor the measurement lists in a TPM: every entry of every list is extended into the",
                    "PCR --tpm-pcr names, so one quote of it covers all of them (see imans measurements verify --anchor).",
                    "DEVICE is /dev/tpmrm0, or tcp:HOST:PORT for swtpm's TCP server (default: none; software PCRs only)."})
    String tpm;

    @Option(names = "--tpm-pcr", paramLabel = "N",
            description = {"The PCR (0-23) the lists are extended into; required with --tpm, no default. Pick one",
                    "nothing else on the machine extends (see the firmware event log; systemd may use 11-15); 16 and",
                    "23 can be reset by any TPM user at locality 0, a weaker choice."})
    Integer tpmPcr;

    /** Set on the copy that already holds the config file's settings. */
    private boolean configApplied;

    @Option(names = "--appraise", paramLabel = "MODE",
            description = "Appraise mode: enforce, log, fix, off or enforce_ns (default: ${DEFAULT-VALUE}).")
    String appraise = DaemonConfig.DEFAULT_APPRAISE.kernelName();

    @Override
    public Integer call() throws InterruptedException {
        var err = spec.commandLine().getErr();
        if (!configApplied) {
            try {
                ConfigFile file = ConfigFile.read(config == null ? ConfigFile.DEFAULT : config, config != null);
                file.checkOciHook();
                List<String> fromFile = file.arguments(spec, spec.commandLine().getParseResult());
                if (!fromFile.isEmpty()) {
                    return withConfig(file, fromFile);
                }
            } catch (ConfigFile.ConfigException e) {
                err.println("imans daemon: " + e.getMessage());
                return 2;
            }
        }
        Optional<Log.Level> level = Log.Level.byName(logLevel);
        if (level.isEmpty()) {
            err.println("imans daemon: --log-level must be one of error, warn, info, debug (got '" + logLevel + "')");
            return 2;
        }
        Log.configure(level.get(), Log.journalStream(System.getenv()));
        Optional<AppraiseSetting> mode = AppraiseSetting.byName(appraise);
        if (mode.isEmpty()) {
            err.println("imans daemon: --appraise must be one of enforce, log, fix, off, enforce_ns (got '"
                    + appraise + "')");
            return 2;
        }
        AuditFormat format = switch (auditFormat) {
            case "seed" -> AuditFormat.SEED;
            case "current" -> AuditFormat.CURRENT;
            default -> null;
        };
        if (format == null) {
            err.println("imans daemon: --audit-format must be seed or current (got '" + auditFormat + "')");
            return 2;
        }
        Template measureTemplate;
        try {
            measureTemplate = Template.lookup(template);
        } catch (TemplateException e) {
            err.println("imans daemon: --template: " + e.getMessage());
            return 2;
        }
        DaemonConfig config;
        try {
            config = new DaemonConfig(control, mountSecurityfs, state, Optional.ofNullable(auditLog), mode.get())
                    .withAudit(Optional.ofNullable(auditLog), format, auditKmsg, auditStderr)
                    .withTemplate(measureTemplate).withMeasurementsFsync(measurementsFsync)
                    .withArchive(new ArchivePolicy(archiveKeep, java.time.Duration.ofDays(archiveDays)));
            if (metricsListen != null) {
                config = config.withMetricsListen(MetricsServer.parseAddress(metricsListen));
            }
            if (tpm != null || tpmPcr != null) {
                if (tpm == null || tpmPcr == null) {
                    throw new IllegalArgumentException("--tpm and --tpm-pcr go together: the PCR is the operator's"
                            + " choice (one nothing else extends), there is no default");
                }
                config = config.withTpm(new DaemonConfig.TpmAnchorSetting(tpm, tpmPcr));
            }
            if (!noEnforce) {
                config = config.withEnforcement(EnforcementConfig.defaults().withHashAlgo(hash).withKeyring(keyring())
                        .withRehashOnClose(rehashOnClose).withFilesystems(watchFs, namespaceFilesystemsOnly)
                        .withRehearsal(!noRehearsal));
            }
        } catch (IllegalArgumentException | IOException e) {
            err.println("imans daemon: " + e.getMessage());
            return 2;
        }
        DaemonSignals signals = DaemonSignals.install();
        Optional<SdNotify> notify = SdNotify.fromEnvironment(System.getenv());
        Daemon daemon;
        try {
            daemon = Daemon.start(config);
        } catch (IOException | RuntimeException e) {
            err.println("imans daemon: " + e.getMessage());
            return 1;
        }
        if (!noEnforce) {
            daemon.hostKeysFrom(this::keyring);
        }
        Runnable stopDaemon = () -> {
            notify.ifPresent(SdNotify::stopping);
            daemon.close();
        };
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("imans-shutdown").unstarted(stopDaemon));
        notify.ifPresent(n -> n.ready(daemon::summary, daemon::alive));
        var stop = signals.serve(daemon);
        if (stop.isPresent()) {
            stopDaemon.run();
            return 128 + stop.getAsInt();
        }
        daemon.awaitStop();
        return 0;
    }

    /**
     * Runs a copy of this command whose arguments are the config file's settings followed by the
     * command line's: picocli then converts and checks them as if typed, and every option the command
     * line gave was already left out of {@code fromFile}.
     */
    private Integer withConfig(ConfigFile file, List<String> fromFile) throws InterruptedException {
        DaemonCommand copy = new DaemonCommand();
        java.util.Optional<String> refused = ConfigFile.parseInto(copy, spec, fromFile);
        if (refused.isPresent()) {
            spec.commandLine().getErr().println("imans daemon: " + file.path() + ": " + refused.get());
            return 2;
        }
        copy.configApplied = true;
        return copy.call();
    }

    private Keyring keyring() throws IOException {
        List<VerificationKey> out = new ArrayList<>();
        for (Path k : keys) {
            byte[] bytes;
            try {
                bytes = Files.readAllBytes(k);
            } catch (java.nio.file.NoSuchFileException e) {
                throw new IOException("--key " + k + ": no such file", e);
            } catch (IOException e) {
                throw new IOException("--key " + k + ": cannot be read: " + e.getMessage(), e);
            }
            try {
                out.add(KeyFiles.readVerificationKey(bytes, k.toString()));
            } catch (IllegalArgumentException e) {
                throw new IOException("--key " + k + ": " + e.getMessage(), e);
            }
        }
        if (!noKeyDir) {
            // A refused file leaves its signatures unverifiable (refused, never let through): logged, not fatal,
            // as a boot script that loads the .ima keyring goes on past a bad file.
            KeyDirectory dir = KeyDirectory.load(keyDir, java.time.Instant.now());
            dir.problems().forEach(p -> Log.warn("key directory " + keyDir + ": " + p + "; not loaded"));
            for (ImaCertificate c : dir.keys()) {
                Log.info("host key " + c.line() + " from " + c.key().source());
                out.add(c.key());
            }
        }
        return Keyring.of(out);
    }
}
