package dev.imans.audit;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * A string the kernel logs with {@code audit_log_untrustedstring} (kernel/audit.c): file names,
 * {@code comm}, device ids, {@code exe}. Held as bytes because Linux names are bytes.
 *
 * <p>Encoding, exactly as {@code audit_log_n_untrustedstring}: if every byte is in 0x21..0x7e and
 * none is {@code "} ({@code audit_string_contains_control} is false) the bytes are written between
 * double quotes; otherwise the whole value is written as upper-case hex, two digits per byte, with
 * no quotes ({@code audit_log_n_hex}, {@code hex_byte_pack_upper}). So a space, a quote, a tab, a
 * newline, DEL and every non-ASCII byte switch the value to hex. The empty string is {@code ""}.
 */
public final class UntrustedString {
    private static final HexFormat UPPER_HEX = HexFormat.of().withUpperCase();

    private final byte[] bytes;

    private UntrustedString(byte[] bytes) {
        this.bytes = bytes;
    }

    public static UntrustedString ofBytes(byte[] bytes) {
        return new UntrustedString(bytes.clone());
    }

    /** The UTF-8 bytes of {@code text}. */
    public static UntrustedString of(String text) {
        return new UntrustedString(text.getBytes(StandardCharsets.UTF_8));
    }

    public byte[] bytes() {
        return bytes.clone();
    }

    public int length() {
        return bytes.length;
    }

    /** True when the kernel would write this value in hex ({@code audit_string_contains_control}). */
    public boolean needsHex() {
        for (byte b : bytes) {
            int c = b & 0xff;
            if (c == '"' || c < 0x21 || c > 0x7e) {
                return true;
            }
        }
        return false;
    }

    /** The text the kernel writes after {@code key=}. */
    public String encode() {
        if (needsHex()) {
            return UPPER_HEX.formatHex(bytes);
        }
        return '"' + new String(bytes, StandardCharsets.US_ASCII) + '"';
    }

    /**
     * The inverse of {@link #encode()}: a quoted value is taken literally, anything else must be
     * hex (either case; auditd's own tools accept both).
     *
     * @throws IllegalArgumentException when the text is neither
     */
    public static UntrustedString decode(String text) {
        if (text.length() >= 2 && text.charAt(0) == '"' && text.charAt(text.length() - 1) == '"') {
            return new UntrustedString(text.substring(1, text.length() - 1).getBytes(StandardCharsets.ISO_8859_1));
        }
        if (text.length() % 2 != 0 || text.isEmpty()) {
            throw new IllegalArgumentException("not a quoted string or an even number of hex digits: " + text);
        }
        try {
            return new UntrustedString(HexFormat.of().parseHex(text));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("not a quoted string or hex: " + text, e);
        }
    }

    /** The bytes as UTF-8 text (malformed sequences replaced), for display. */
    @Override
    public String toString() {
        return new String(bytes, StandardCharsets.UTF_8);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof UntrustedString other && Arrays.equals(bytes, other.bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }
}
