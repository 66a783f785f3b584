package dev.imans.measure;

/** A measurement list (binary or ascii) that cannot be read: where, and why. */
public final class ListFormatException extends Exception {
    private final long offset;
    private final String reason;

    public ListFormatException(long offset, String reason) {
        super("offset " + offset + ": " + reason);
        this.offset = offset;
        this.reason = reason;
    }

    /** Byte offset of the record (or line) at fault. */
    public long offset() {
        return offset;
    }

    public String reason() {
        return reason;
    }
}
