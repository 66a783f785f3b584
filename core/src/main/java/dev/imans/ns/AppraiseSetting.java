package dev.imans.ns;

import dev.imans.appraise.AppraiseMode;
import java.util.Arrays;
import java.util.Optional;

/**
 * The daemon-wide {@code ima_appraise=} setting: the kernel's modes, with the kernel's flag values
 * ({@code IMA_APPRAISE_*} in security/integrity/ima/ima.h) and the 2017 namespacing patches'
 * {@code enforce_ns} ({@code IMA_APPRAISE_ENFORCE | IMA_APPRAISE_NAMESPACE}).
 *
 * <p>What a scope actually appraises in is an {@link AppraiseMode}; this setting decides it per scope.
 * {@code enforce_ns} exists only here: the host then enforces, and each registered
 * namespace appraises in {@code fix} mode until its first policy is committed, then in
 * {@code enforce} mode (patch "ima: appraise mode per namespace with new enforce_ns appraise mode").
 */
public enum AppraiseSetting {
    OFF("off", 0x00),
    ENFORCE("enforce", 0x01),
    FIX("fix", 0x02),
    LOG("log", 0x04),
    ENFORCE_NS("enforce_ns", 0x41);

    private final String kernelName;
    private final int flags;

    AppraiseSetting(String kernelName, int flags) {
        this.kernelName = kernelName;
        this.flags = flags;
    }

    /** The word used on the kernel command line ({@code ima_appraise=fix}). */
    public String kernelName() {
        return kernelName;
    }

    /** The kernel's bit value of this mode. */
    public int flags() {
        return flags;
    }

    /** Exact, case-sensitive match of the kernel word (the kernel's own match is a prefix compare). */
    public static Optional<AppraiseSetting> byName(String name) {
        return Arrays.stream(values()).filter(m -> m.kernelName.equals(name)).findFirst();
    }

    /** The mode the host (initial namespace) appraises in when this is the daemon-wide setting. */
    public AppraiseMode forHost() {
        return switch (this) {
            case OFF -> AppraiseMode.OFF;
            case ENFORCE, ENFORCE_NS -> AppraiseMode.ENFORCE;
            case FIX -> AppraiseMode.FIX;
            case LOG -> AppraiseMode.LOG;
        };
    }

    /**
     * The mode of a registered namespace under this daemon-wide setting.
     *
     * @param policyCommitted whether the namespace has had a policy committed (rules are never
     *     removed, so this stays true once it is)
     */
    public AppraiseMode forNamespace(boolean policyCommitted) {
        if (this == ENFORCE_NS) {
            return policyCommitted ? AppraiseMode.ENFORCE : AppraiseMode.FIX;
        }
        return forHost();
    }

    @Override
    public String toString() {
        return kernelName;
    }
}
