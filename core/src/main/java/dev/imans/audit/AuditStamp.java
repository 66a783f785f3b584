package dev.imans.audit;

import java.util.Objects;

/**
 * The {@code audit(SECONDS.MILLIS:SERIAL)} stamp of a record (kernel/audit.c
 * {@code audit_log_start}: {@code "audit(%llu.%03lu:%u): "}). Records with the same stamp belong
 * to one event.
 *
 * @param epochMillis wall-clock time in milliseconds since the epoch, not negative
 * @param serial      the event serial, an unsigned 32-bit counter
 */
public record AuditStamp(long epochMillis, AuditSerial serial) {
    public AuditStamp {
        if (epochMillis < 0) {
            throw new IllegalArgumentException("epochMillis must not be negative: " + epochMillis);
        }
        Objects.requireNonNull(serial, "serial");
    }

    public static AuditStamp of(long epochMillis, long serial) {
        return new AuditStamp(epochMillis, new AuditSerial(serial));
    }

    /** {@code audit(1495131746.610:29)}. */
    public String text() {
        return "audit(" + epochMillis / 1000 + "." + String.format("%03d", epochMillis % 1000) + ":" + serial.value() + ")";
    }

    /**
     * Parses {@link #text()}'s inside, {@code 1495131746.610:29}. The kernel always writes three
     * fraction digits; fewer or more are rejected rather than guessed at.
     */
    public static AuditStamp parse(String inside) {
        int dot = inside.indexOf('.');
        int colon = inside.indexOf(':');
        if (dot < 1 || colon != dot + 4 || colon == inside.length() - 1) {
            throw new IllegalArgumentException("stamp must be SECONDS.MMM:SERIAL, got '" + inside + "'");
        }
        try {
            long seconds = Long.parseLong(inside.substring(0, dot));
            int millis = Integer.parseInt(inside.substring(dot + 1, colon));
            long serial = Long.parseLong(inside.substring(colon + 1));
            if (seconds < 0 || millis < 0 || seconds > Long.MAX_VALUE / 1000 - 1) {
                throw new IllegalArgumentException("stamp out of range: '" + inside + "'");
            }
            return new AuditStamp(Math.addExact(seconds * 1000, millis), new AuditSerial(serial));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("stamp must be SECONDS.MMM:SERIAL, got '" + inside + "'", e);
        }
    }
}
