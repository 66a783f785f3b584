package dev.imans.daemon.control;

/**
 * The files of the control filesystem, with securityfs's names and modes
 * (security/integrity/ima/ima_fs.c and the 2017 namespacing patches), plus imans's own status
 * files under {@code .imans/}.
 */
public enum ControlFile {
    /** Write a mount namespace id to register it (patches: write-only, exclusive, CAP_SYS_ADMIN). */
    NAMESPACES("namespaces", 0200, Scope.TOP),
    /** The host policy at the top, a namespace's policy in {@code <nsid>/}. */
    POLICY("policy", 0600, Scope.BOTH),
    ASCII_RUNTIME_MEASUREMENTS("ascii_runtime_measurements", 0440, Scope.BOTH),
    BINARY_RUNTIME_MEASUREMENTS("binary_runtime_measurements", 0440, Scope.BOTH),
    RUNTIME_MEASUREMENTS_COUNT("runtime_measurements_count", 0440, Scope.BOTH),
    VIOLATIONS("violations", 0440, Scope.BOTH),
    /**
     * imans only, in {@code <nsid>/}: write X.509 certificates (DER or PEM) to add verification keys
     * for the namespace's policy; read one line per key.
     */
    KEYS("keys", 0600, Scope.NAMESPACE),
    /** imans only: one line per registered namespace (what {@code namespaces} cannot show, being write-only). */
    STATUS("namespaces", 0440, Scope.IMANS),
    /** imans only: why the last rejected policy write was rejected. */
    LAST_ERROR("last_error", 0440, Scope.IMANS),
    /** imans only: {@code ok}, or one line per degraded state with its start and cause. */
    HEALTH("health", 0440, Scope.IMANS),
    /** imans only: every rule in force that imans cannot enforce here, and why. */
    WARNINGS("warnings", 0440, Scope.IMANS),
    /** imans only: the daemon's counters and states in the Prometheus text exposition format. */
    METRICS("metrics", 0440, Scope.IMANS),
    /** imans only: with a TPM anchor, its log (what was extended into the anchor PCR); empty without. */
    TPM_ANCHOR_LOG("tpm-anchor.log", 0440, Scope.IMANS);

    /** The directory holding imans's own files. */
    public static final String IMANS_DIR = ".imans";

    /** Where a file appears: the top only, the top and each namespace's directory, {@code .imans/}, or namespaces' only. */
    public enum Scope { TOP, BOTH, IMANS, NAMESPACE }

    private final String fileName;
    private final int mode;
    private final Scope scope;

    ControlFile(String fileName, int mode, Scope scope) {
        this.fileName = fileName;
        this.mode = mode;
        this.scope = scope;
    }

    public String fileName() {
        return fileName;
    }

    /** Permission bits, as securityfs creates the file. */
    public int mode() {
        return mode;
    }

    public Scope scope() {
        return scope;
    }

    public boolean writable() {
        return (mode & 0200) != 0;
    }
}
