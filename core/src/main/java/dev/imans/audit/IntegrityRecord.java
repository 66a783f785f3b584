package dev.imans.audit;

import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * An {@code integrity_audit_message} record that is neither a {@link StatusRecord} nor a
 * {@link PcrRecord}: appraisal ({@code op=appraise_data}), collection, mmap, set_data and EVM
 * records (types 1800, 1801, 1806, 1808, and 1802/1804 with other operations).
 *
 * <p>The seed's record is
 * {@code new IntegrityRecord(INTEGRITY_DATA, Subject.of(384, 0, UNSET, UNSET, "cat"), "appraise_data",
 * "invalid-hash", name "/tmp/foo", mnt_ns 4026532208, tmpfs inode 13105, false, 0)}.
 */
public record IntegrityRecord(AuditType type, Subject subject, String op, String cause,
                              Optional<UntrustedString> name, OptionalLong mntNs, Optional<InodeRef> inode,
                              boolean res, int errno) implements IntegrityMessage {
    public IntegrityRecord {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(subject, "subject");
        Checks.bareText("op", op);
        Checks.bareText("cause", cause);
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(mntNs, "mntNs");
        Objects.requireNonNull(inode, "inode");
        mntNs.ifPresent(ns -> Checks.u32("mnt_ns", ns));
        if (mntNs.isPresent() && name.isEmpty()) {
            throw new IllegalArgumentException("mnt_ns is only written after name=: a record with mnt_ns needs a name");
        }
        if (type == AuditType.INTEGRITY_RULE || type == AuditType.INTEGRITY_POLICY_RULE) {
            throw new IllegalArgumentException(type + " records are not integrity messages: use RuleRecord or AuditMeasurementRecord");
        }
        if (type == AuditType.INTEGRITY_PCR && PcrRecord.Op.byText(op).isPresent()) {
            throw new IllegalArgumentException("op=" + op + " is a PcrRecord");
        }
        if (type == AuditType.INTEGRITY_STATUS && StatusRecord.Op.byText(op).isPresent()
                && name.isEmpty() && inode.isEmpty()) {
            throw new IllegalArgumentException("op=" + op + " without a file is a StatusRecord");
        }
    }

    /** An appraisal record ({@code op=appraise_data}, type 1800) for a file. */
    public static IntegrityRecord appraiseData(Subject subject, String cause, UntrustedString name,
                                               OptionalLong mntNs, InodeRef inode, boolean res) {
        return new IntegrityRecord(AuditType.INTEGRITY_DATA, subject, "appraise_data", cause,
                Optional.of(name), mntNs, Optional.of(inode), res, 0);
    }
}
