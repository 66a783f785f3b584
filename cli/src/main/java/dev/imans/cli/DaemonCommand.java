package dev.imans.cli;

import dev.imans.daemon.Daemon;
import dev.imans.daemon.DaemonConfig;
import dev.imans.daemon.ns.PolicyAuditLog;
import dev.imans.daemon.ns.PolicyUpdateListener;
import dev.imans.ns.AppraiseMode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code imans daemon}: runs in the foreground, logs to standard error, serves the control
 * filesystem, and stops cleanly on SIGTERM or SIGINT (a shutdown hook unmounts everything).
 */
@Command(name = "daemon", mixinStandardHelpOptions = true,
        description = {"Run the imans daemon in the foreground: namespace registry, state journal and the",
            "control filesystem (a copy of securityfs's ima/ directory). Ready when DIR/namespaces exists.",
            "Stops cleanly on SIGTERM or SIGINT."})
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
            description = "Append integrity audit records (policy updates) to FILE.")
    Path auditLog;

    @Option(names = "--appraise", paramLabel = "MODE",
            description = "Appraise mode: enforce, log, fix, off or enforce_ns (default: ${DEFAULT-VALUE}).")
    String appraise = DaemonConfig.DEFAULT_APPRAISE.kernelName();

    @Override
    public Integer call() throws InterruptedException {
        var err = spec.commandLine().getErr();
        Optional<AppraiseMode> mode = AppraiseMode.byName(appraise);
        if (mode.isEmpty()) {
            err.println("imans daemon: --appraise must be one of enforce, log, fix, off, enforce_ns (got '"
                    + appraise + "')");
            return 2;
        }
        DaemonConfig config;
        try {
            config = new DaemonConfig(control, mountSecurityfs, state, Optional.ofNullable(auditLog), mode.get());
        } catch (IllegalArgumentException e) {
            err.println("imans daemon: " + e.getMessage());
            return 2;
        }
        PolicyAuditLog audit = null;
        Daemon daemon;
        try {
            if (config.auditLog().isPresent()) {
                audit = PolicyAuditLog.open(config.auditLog().get());
            }
            daemon = Daemon.start(config, audit == null ? PolicyUpdateListener.NONE : audit);
        } catch (IOException | RuntimeException e) {
            err.println("imans daemon: " + e.getMessage());
            closeQuietly(audit);
            return 1;
        }
        PolicyAuditLog auditToClose = audit;
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("imans-shutdown").unstarted(() -> {
            daemon.close();
            closeQuietly(auditToClose);
        }));
        daemon.awaitStop();
        return 0;
    }

    private static void closeQuietly(PolicyAuditLog audit) {
        if (audit != null) {
            try {
                audit.close();
            } catch (IOException e) {
                System.err.println("imans daemon: closing the audit log: " + e.getMessage());
            }
        }
    }
}
