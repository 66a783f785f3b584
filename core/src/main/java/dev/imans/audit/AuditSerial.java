package dev.imans.audit;

/**
 * An audit event serial number, the kernel's unsigned 32-bit {@code audit_serial()} counter
 * (kernel/audit.c), which starts at 1 and wraps. A value: the caller owns the current one and
 * asks for the {@link #next()}.
 */
public record AuditSerial(long value) {
    /** The kernel's first serial. */
    public static final AuditSerial FIRST = new AuditSerial(1);

    public AuditSerial {
        Checks.u32("serial", value);
    }

    /** The following serial, wrapping from 4294967295 to 0 as the kernel's counter does. */
    public AuditSerial next() {
        return new AuditSerial((value + 1) & Checks.U32_MAX);
    }
}
