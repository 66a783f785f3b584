package dev.imans.appraise;

/**
 * Appraisal outcomes, {@code enum integrity_status} (include/linux/integrity.h), without the
 * EVM-only {@code *_IMMUTABLE} states. Anything but {@link #PASS} is a failure the kernel denies in
 * enforce mode.
 */
public enum IntegrityStatus {
    PASS,
    FAIL,
    /** No {@code security.ima} (or an empty one). */
    NOLABEL,
    /** No EVM-protected xattrs at all: reported by EVM, kept for completeness. */
    NOXATTRS,
    /** A value the kernel could not judge: unknown type, unsupported signature version. */
    UNKNOWN
}
