package dev.imans.audit;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * The escaping /dev/kmsg applies when a record is read back from the kernel log
 * (kernel/printk/printk.c {@code msg_add_ext_text}): every byte below 0x20, from 0x7f up, and the
 * backslash itself, become {@code \xNN} in lower-case hex. This is how the captured kernel lines
 * show a carriage return in a policy rule ({@code func=FILE_CHECK\x0d}).
 */
public final class KmsgText {
    private KmsgText() {
    }

    /** Escapes UTF-8 text as /dev/kmsg would show it. */
    public static String escape(String text) {
        StringBuilder sb = new StringBuilder(text.length());
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if (c < 0x20 || c >= 0x7f || c == '\\') {
                sb.append(String.format("\\x%02x", c));
            } else {
                sb.append((char) c);
            }
        }
        return sb.toString();
    }

    /**
     * Undoes {@link #escape}; the bytes are read as UTF-8.
     *
     * @throws AuditParseException on a backslash not followed by {@code x} and two hex digits
     */
    public static String unescape(String text) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(text.length());
        byte[] in = text.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < in.length; i++) {
            if (in[i] != '\\') {
                out.write(in[i]);
                continue;
            }
            if (i + 3 >= in.length || in[i + 1] != 'x') {
                throw new AuditParseException("bad /dev/kmsg escape at offset " + i + " in: " + text);
            }
            int hi = Character.digit(in[i + 2], 16);
            int lo = Character.digit(in[i + 3], 16);
            if (hi < 0 || lo < 0) {
                throw new AuditParseException("bad /dev/kmsg escape at offset " + i + " in: " + text);
            }
            out.write(hi << 4 | lo);
            i += 3;
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
