package dev.imans.measure;

/** A measurement list (binary or ascii) that cannot be read: where, and why. */
public final class ListFormatException extends Exception {
    private final long offset;
    private final String reason;
    private final boolean truncated;

    public ListFormatException(long offset, String reason) {
        this(offset, reason, false);
    }

    /** @param truncated the bytes ran out inside the record (nothing after it was read wrongly) */
    public ListFormatException(long offset, String reason, boolean truncated) {
        super("offset " + offset + ": " + reason);
        this.offset = offset;
        this.reason = reason;
        this.truncated = truncated;
    }

    /** Whether the data ended inside the record: a list cut short, not a malformed one. */
    public boolean truncated() {
        return truncated;
    }

    /** Byte offset of the record (or line) at fault. */
    public long offset() {
        return offset;
    }

    public String reason() {
        return reason;
    }
}
