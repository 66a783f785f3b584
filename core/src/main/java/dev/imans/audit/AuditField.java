package dev.imans.audit;

/**
 * One {@code key=value} of a record as written: the operator ({@code =}, or {@code <}/{@code >}
 * in policy rule records), the raw value text and whether it was between double quotes (then
 * {@code raw} is the text inside them).
 */
public record AuditField(String key, char operator, String raw, boolean quoted) {

    /** The value as text: the inside of the quotes, or the bare value. Hex is not decoded. */
    public String text() {
        return raw;
    }

    /** The value read as an untrusted string: quoted text literally, otherwise hex. */
    public UntrustedString untrusted() {
        if (quoted) {
            return UntrustedString.decode('"' + raw + '"');
        }
        try {
            return UntrustedString.decode(raw);
        } catch (IllegalArgumentException e) {
            throw new AuditParseException(key + "= must be a quoted string or hex, got '" + raw + "'", e);
        }
    }

    /** The value as the record wrote it, quotes included. */
    public String written() {
        return quoted ? '"' + raw + '"' : raw;
    }
}
