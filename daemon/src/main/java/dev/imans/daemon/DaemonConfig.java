package dev.imans.daemon;

import dev.imans.ns.AppraiseMode;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * Everything {@code imans daemon} is told on its command line, with the defaults in one place.
 *
 * @param control where the control filesystem is mounted
 * @param mountSecurityfs also show it at {@code /sys/kernel/security/ima}
 * @param state the directory of the state journal
 * @param auditLog where integrity audit records are appended, if anywhere
 * @param appraise the {@code ima_appraise=} mode
 */
public record DaemonConfig(Path control, boolean mountSecurityfs, Path state, Optional<Path> auditLog,
                           AppraiseMode appraise) {
    public static final Path DEFAULT_CONTROL = Path.of("/run/imans/ima");
    public static final Path DEFAULT_STATE = Path.of("/var/lib/imans");
    public static final AppraiseMode DEFAULT_APPRAISE = AppraiseMode.ENFORCE;
    /** Where the securityfs view goes with {@code --mount-securityfs}. */
    public static final Path SECURITYFS = Path.of("/sys/kernel/security");

    public DaemonConfig {
        Objects.requireNonNull(control, "control");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(auditLog, "auditLog");
        Objects.requireNonNull(appraise, "appraise");
        control = control.toAbsolutePath().normalize();
        state = state.toAbsolutePath().normalize();
        auditLog = auditLog.map(p -> p.toAbsolutePath().normalize());
        if (state.startsWith(control)) {
            throw new IllegalArgumentException("--state " + state + " must not be inside --control " + control);
        }
    }

    public static DaemonConfig defaults() {
        return new DaemonConfig(DEFAULT_CONTROL, false, DEFAULT_STATE, Optional.empty(), DEFAULT_APPRAISE);
    }
}
