package dev.imans.audit;

import java.util.Optional;

/**
 * The integrity audit record types, {@code AUDIT_INTEGRITY_*} in include/uapi/linux/audit.h
 * (the 1800 block). The number is what {@code type=} shows.
 */
public enum AuditType {
    /** Data integrity verification: appraisal and collection failures. */
    INTEGRITY_DATA(1800),
    /** Metadata integrity verification (EVM). */
    INTEGRITY_METADATA(1801),
    /** Integrity enable status: policy loads and rule errors. */
    INTEGRITY_STATUS(1802),
    /** Integrity hashing; only very old {@code ima_hash=} setup used it. */
    INTEGRITY_HASH(1803),
    /** PCR invalidation and measurement-list problems. */
    INTEGRITY_PCR(1804),
    /** The {@code audit} policy action; before 5.x kernels also each parsed policy rule. */
    INTEGRITY_RULE(1805),
    /** New EVM-covered xattr. */
    INTEGRITY_EVM_XATTR(1806),
    /** A parsed policy rule (current kernels). */
    INTEGRITY_POLICY_RULE(1807),
    /** Userspace-requested appraisal (execveat AT_EXECVE_CHECK). */
    INTEGRITY_USERSPACE(1808);

    private final int number;

    AuditType(int number) {
        this.number = number;
    }

    /** The number on the wire and after {@code type=}. */
    public int number() {
        return number;
    }

    /** The kernel's macro name without the {@code AUDIT_} prefix, as auditd prints it. */
    public String auditdName() {
        return name();
    }

    public static Optional<AuditType> byNumber(int number) {
        for (AuditType t : values()) {
            if (t.number == number) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }

    /** By number or by auditd's name ({@code INTEGRITY_DATA}). */
    public static Optional<AuditType> byText(String text) {
        for (AuditType t : values()) {
            if (t.name().equals(text) || Integer.toString(t.number).equals(text)) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }
}
