package dev.imans.daemon;

import dev.imans.audit.AuditFormat;
import dev.imans.crypto.HashAlgo;
import dev.imans.daemon.enforce.EnforcementConfig;
import dev.imans.daemon.measure.ArchivePolicy;
import dev.imans.measure.Template;
import dev.imans.ns.AppraiseSetting;
import java.net.InetSocketAddress;
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
 * @param enforcement fanotify enforcement of appraisal, if wanted (without it the daemon only serves
 *     the registry and the control filesystem)
 * @param auditFormat the kernel text audit records are written in
 * @param auditKmsg also write audit records to the kernel log ({@code /dev/kmsg})
 * @param auditStderr also write audit records to standard error
 * @param template the measurement template of {@code measure} rules without {@code template=} (the
 *     kernel's {@code ima_template=}), and of each list's {@code boot_aggregate}
 * @param measurementsFsync fsync a measurement list file after each write of entries, so answered opens
 *     keep their entries through a power failure too (without it they survive the daemon's death only)
 * @param archive how many measurement lists of ended namespaces are kept, and for how long
 * @param metricsListen where to serve {@code /metrics} over HTTP, if anywhere
 * @param tpm the TPM and PCR every measurement list entry is extended into, if any
 */
public record DaemonConfig(Path control, boolean mountSecurityfs, Path state, Optional<Path> auditLog,
                           AppraiseSetting appraise, Optional<EnforcementConfig> enforcement, AuditFormat auditFormat,
                           boolean auditKmsg, boolean auditStderr, Template template,
                           boolean measurementsFsync, ArchivePolicy archive, Optional<InetSocketAddress> metricsListen,
                           Optional<TpmAnchorSetting> tpm) {
    public static final Path DEFAULT_CONTROL = Path.of("/run/imans/ima");
    public static final Path DEFAULT_STATE = Path.of("/var/lib/imans");
    public static final AppraiseSetting DEFAULT_APPRAISE = AppraiseSetting.ENFORCE;
    /** The kernel's CONFIG_IMA_DEFAULT_TEMPLATE on current distributions. */
    public static final Template DEFAULT_TEMPLATE = Template.IMA_NG;
    /** Where the securityfs view goes with {@code --mount-securityfs}. */
    public static final Path SECURITYFS = Path.of("/sys/kernel/security");

    public DaemonConfig {
        Objects.requireNonNull(control, "control");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(auditLog, "auditLog");
        Objects.requireNonNull(appraise, "appraise");
        Objects.requireNonNull(enforcement, "enforcement");
        Objects.requireNonNull(auditFormat, "auditFormat");
        Objects.requireNonNull(template, "template");
        Objects.requireNonNull(archive, "archive");
        Objects.requireNonNull(metricsListen, "metricsListen");
        Objects.requireNonNull(tpm, "tpm");
        control = control.toAbsolutePath().normalize();
        state = state.toAbsolutePath().normalize();
        auditLog = auditLog.map(p -> p.toAbsolutePath().normalize());
        if (state.startsWith(control)) {
            throw new IllegalArgumentException("--state " + state + " must not be inside --control " + control);
        }
    }

    /** Registry and control filesystem only: no enforcement, audit records in the seed format. */
    public DaemonConfig(Path control, boolean mountSecurityfs, Path state, Optional<Path> auditLog,
                        AppraiseSetting appraise) {
        this(control, mountSecurityfs, state, auditLog, appraise, Optional.empty(), AuditFormat.SEED, false, false,
                DEFAULT_TEMPLATE, false, ArchivePolicy.DEFAULT, Optional.empty(), Optional.empty());
    }

    /** The same daemon with fanotify enforcement. */
    public DaemonConfig withEnforcement(EnforcementConfig e) {
        return new DaemonConfig(control, mountSecurityfs, state, auditLog, appraise, Optional.of(e), auditFormat,
                auditKmsg, auditStderr, template, measurementsFsync, archive, metricsListen, tpm);
    }

    /** The same daemon with these audit sinks and format. */
    public DaemonConfig withAudit(Optional<Path> file, AuditFormat format, boolean kmsg, boolean stderr) {
        return new DaemonConfig(control, mountSecurityfs, state, file, appraise, enforcement, format, kmsg, stderr,
                template, measurementsFsync, archive, metricsListen, tpm);
    }

    /** The same daemon with this default measurement template. */
    public DaemonConfig withTemplate(Template t) {
        return new DaemonConfig(control, mountSecurityfs, state, auditLog, appraise, enforcement, auditFormat,
                auditKmsg, auditStderr, t, measurementsFsync, archive, metricsListen, tpm);
    }

    /** The same daemon, with or without an fsync after each write of measurement entries. */
    public DaemonConfig withMeasurementsFsync(boolean fsync) {
        return new DaemonConfig(control, mountSecurityfs, state, auditLog, appraise, enforcement, auditFormat,
                auditKmsg, auditStderr, template, fsync, archive, metricsListen, tpm);
    }

    /** The same daemon with this retention of the lists of ended namespaces. */
    public DaemonConfig withArchive(ArchivePolicy a) {
        return new DaemonConfig(control, mountSecurityfs, state, auditLog, appraise, enforcement, auditFormat,
                auditKmsg, auditStderr, template, measurementsFsync, a, metricsListen, tpm);
    }

    /** The same daemon serving {@code /metrics} over HTTP at {@code address}. */
    public DaemonConfig withMetricsListen(InetSocketAddress address) {
        return new DaemonConfig(control, mountSecurityfs, state, auditLog, appraise, enforcement, auditFormat,
                auditKmsg, auditStderr, template, measurementsFsync, archive, Optional.of(address), tpm);
    }

    /** The same daemon anchoring its measurement lists in a TPM PCR. */
    public DaemonConfig withTpm(TpmAnchorSetting t) {
        return new DaemonConfig(control, mountSecurityfs, state, auditLog, appraise, enforcement, auditFormat,
                auditKmsg, auditStderr, template, measurementsFsync, archive, metricsListen, Optional.of(t));
    }

    /**
     * A TPM anchor: the TPM ({@code /dev/tpmrm0}, or {@code tcp:HOST:PORT} for swtpm's TCP server) and the
     * PCR every entry of every measurement list is extended into. The operator picks a PCR nothing else
     * extends; there is no default.
     */
    public record TpmAnchorSetting(String device, int pcr) {
        public TpmAnchorSetting {
            Objects.requireNonNull(device, "device");
            if (pcr < 0 || pcr > 23) {
                throw new IllegalArgumentException("--tpm-pcr " + pcr + " out of range 0-23");
            }
            dev.imans.tpm.TpmTransport.parse(device);
        }
    }

    /** The {@code ima_hash} of the measurement lists: enforcement's hash algorithm, else SHA-256. */
    public HashAlgo imaHash() {
        return enforcement.map(EnforcementConfig::hashAlgo).orElse(HashAlgo.SHA256);
    }

    public static DaemonConfig defaults() {
        return new DaemonConfig(DEFAULT_CONTROL, false, DEFAULT_STATE, Optional.empty(), DEFAULT_APPRAISE);
    }
}
