package dev.imans.audit;

import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A type 1804 record about the measurement list and its PCR: {@code op=invalid_pcr} with cause
 * {@code ToMToU} or {@code open_writers} (ima_main.c {@code ima_rdwr_violation_check}, res=1,
 * the file's name and inode), {@code add_template_measure} and {@code add_boot_aggregate}
 * (ima_api.c, ima_init.c; their name is the template's or {@code boot_aggregate}).
 */
public record PcrRecord(Subject subject, Op operation, String cause, Optional<UntrustedString> name,
                        OptionalLong mntNs, Optional<InodeRef> inode, boolean res, int errno)
        implements IntegrityMessage {

    /** The PCR operations, with the kernel's strings. */
    public enum Op {
        INVALID_PCR("invalid_pcr"),
        ADD_TEMPLATE_MEASURE("add_template_measure"),
        ADD_BOOT_AGGREGATE("add_boot_aggregate");

        private final String text;

        Op(String text) {
            this.text = text;
        }

        public String text() {
            return text;
        }

        public static Optional<Op> byText(String text) {
            for (Op op : values()) {
                if (op.text.equals(text)) {
                    return Optional.of(op);
                }
            }
            return Optional.empty();
        }
    }

    public PcrRecord {
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(operation, "operation");
        Checks.bareText("cause", cause);
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(mntNs, "mntNs");
        Objects.requireNonNull(inode, "inode");
        mntNs.ifPresent(ns -> Checks.u32("mnt_ns", ns));
        if (mntNs.isPresent() && name.isEmpty()) {
            throw new IllegalArgumentException("mnt_ns is only written after name=: a record with mnt_ns needs a name");
        }
    }

    /** A ToMToU or open-writers violation for a file ({@code res=1}, as the kernel logs them). */
    public static PcrRecord invalidPcr(Subject subject, String cause, UntrustedString name, OptionalLong mntNs,
                                       InodeRef inode) {
        return new PcrRecord(subject, Op.INVALID_PCR, cause, Optional.of(name), mntNs, Optional.of(inode), true, 0);
    }

    @Override
    public AuditType type() {
        return AuditType.INTEGRITY_PCR;
    }

    @Override
    public String op() {
        return operation.text();
    }
}
