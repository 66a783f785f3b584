package dev.imans.daemon.control;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The bytes written to a {@code keys} file, cut into whole certificates as they arrive: a DER
 * certificate ends where its outer SEQUENCE says, PEM text where every BEGIN line has its END line,
 * and a {@code remove <key id>} line at its newline. Whether a whole certificate is acceptable is the
 * namespace service's question, not this one's.
 */
final class KeyUpload {
    /** A certificate is a few KiB; more pending bytes than this are no certificate. */
    static final int MAX_PENDING = 1 << 20;

    private byte[] pending = new byte[0];

    /**
     * Appends {@code data}; returns each run of bytes now complete (one DER certificate, or PEM text
     * with whole blocks), which leaves the pending bytes.
     *
     * @throws IllegalArgumentException when the pending bytes cannot begin a certificate (then dropped)
     */
    List<byte[]> add(byte[] data) {
        ByteArrayOutputStream b = new ByteArrayOutputStream(pending.length + data.length);
        b.writeBytes(pending);
        b.writeBytes(data);
        pending = b.toByteArray();
        List<byte[]> out = new ArrayList<>();
        while (true) {
            int start = skipSpace(pending);
            if (start == pending.length) {
                pending = new byte[0];
                return out;
            }
            int end = completeAt(pending, start);
            if (end < 0) {
                if (pending.length - start > MAX_PENDING) {
                    pending = new byte[0];
                    throw new IllegalArgumentException("more than " + MAX_PENDING + " bytes without a whole"
                            + " certificate");
                }
                return out;
            }
            out.add(Arrays.copyOfRange(pending, start, end));
            pending = Arrays.copyOfRange(pending, end, pending.length);
        }
    }

    /** The pending bytes no write completed (empty if only white space is left). */
    byte[] rest() {
        int start = skipSpace(pending);
        return Arrays.copyOfRange(pending, start, pending.length);
    }

    void reset() {
        pending = new byte[0];
    }

    /** Where the certificate starting at {@code p} ends, or -1 while it is incomplete. */
    private int completeAt(byte[] b, int p) {
        if (b[p] == '-') {
            return pemEnd(b, p);
        }
        if (b[p] == 'r') {
            return lineEnd(b, p);
        }
        if ((b[p] & 0xff) != 0x30) {
            pending = new byte[0];
            throw new IllegalArgumentException("neither PEM nor a DER X.509 certificate (it starts with byte 0x"
                    + String.format("%02x", b[p] & 0xff) + ")");
        }
        if (p + 2 > b.length) {
            return -1;
        }
        int first = b[p + 1] & 0xff;
        if (first < 0x80) {
            return p + 2 + first <= b.length ? p + 2 + first : -1;
        }
        int n = first & 0x7f;
        if (n == 0 || n > 3) {
            pending = new byte[0];
            throw new IllegalArgumentException("not a DER X.509 certificate (bad length encoding)");
        }
        if (p + 2 + n > b.length) {
            return -1;
        }
        long len = 0;
        for (int i = 0; i < n; i++) {
            len = (len << 8) | (b[p + 2 + i] & 0xff);
        }
        long end = p + 2 + n + len;
        return end <= b.length ? (int) end : -1;
    }

    /** A {@code remove} line is complete at its newline; what it says is checked by the service. */
    private int lineEnd(byte[] b, int p) {
        for (int i = p; i < b.length; i++) {
            if (b[i] == '\n') {
                return i + 1;
            }
            if (i - p > 80) {
                pending = new byte[0];
                throw new IllegalArgumentException("a line longer than 80 bytes is neither a certificate nor"
                        + " 'remove <key id>'");
            }
        }
        return -1;
    }

    /** PEM text is complete when it has as many closed END lines as BEGIN lines, and one at least. */
    private static int pemEnd(byte[] b, int p) {
        String s = new String(b, p, b.length - p, StandardCharsets.ISO_8859_1);
        int begins = count(s, "-----BEGIN ");
        int ends = 0;
        int last = -1;
        int i = 0;
        while ((i = s.indexOf("-----END ", i)) >= 0) {
            int close = s.indexOf("-----", i + 9);
            if (close < 0) {
                return -1;
            }
            ends++;
            last = close + 5;
            i = last;
        }
        if (begins == 0 || ends < begins) {
            return -1;
        }
        return p + last;
    }

    private static int count(String s, String what) {
        int n = 0;
        for (int i = s.indexOf(what); i >= 0; i = s.indexOf(what, i + what.length())) {
            n++;
        }
        return n;
    }

    private static int skipSpace(byte[] b) {
        int p = 0;
        while (p < b.length && (b[p] == ' ' || b[p] == '\n' || b[p] == '\r' || b[p] == '\t')) {
            p++;
        }
        return p;
    }
}
