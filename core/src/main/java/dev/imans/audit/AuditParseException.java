package dev.imans.audit;

/** A line that is not an integrity audit record this package can read; the message says why and where. */
public final class AuditParseException extends IllegalArgumentException {
    public AuditParseException(String message) {
        super(message);
    }

    public AuditParseException(String message, Throwable cause) {
        super(message, cause);
    }
}
