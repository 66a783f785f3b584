package dev.imans.measure;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HexFormat;

/**
 * How a template field's bytes are shown in the ascii list: the kernel's {@code enum data_formats}
 * and {@code ima_show_template_data_ascii} (security/integrity/ima/ima_template_lib.c).
 */
public enum DataFormat {
    /** Raw digest, shown as lowercase hex ({@code d}). */
    DIGEST,
    /** {@code "<algo>:" NUL digest}, shown as {@code algo:hex} ({@code d-ng}, {@code d-modsig}). */
    DIGEST_WITH_ALGO,
    /** {@code "<ima|verity>:<algo>:" NUL digest}, shown as {@code ima:algo:hex} ({@code d-ngv2}). */
    DIGEST_WITH_TYPE_AND_ALGO,
    /** NUL-terminated string, shown up to the first NUL. */
    STRING,
    /** Opaque bytes, shown as lowercase hex. */
    HEX,
    /** Little-endian unsigned integer of 1, 2, 4 or 8 bytes, shown in decimal. */
    UINT;

    private static final HexFormat HEX_FORMAT = HexFormat.of();

    /**
     * Appends the ascii form of {@code data} to {@code out}. Never called for empty fields: the
     * kernel skips them (which leaves the separating space behind).
     */
    void appendAscii(byte[] data, ByteArrayOutputStream out) {
        switch (this) {
            case DIGEST_WITH_ALGO, DIGEST_WITH_TYPE_AND_ALGO -> {
                // The kernel prints the NUL-terminated prefix ("sha256:") and then the bytes after
                // its last ':' and the NUL; readers guarantee that the prefix exists.
                int nul = indexOf(data, (byte) 0);
                if (nul > 1) {
                    // A bare ":" prefix is the string's start, which the kernel does not print.
                    out.write(data, 0, nul);
                }
                int start = nul + 1;
                writeAscii(out, HEX_FORMAT.formatHex(data, start, data.length));
            }
            case DIGEST, HEX -> writeAscii(out, HEX_FORMAT.formatHex(data));
            case STRING -> {
                int nul = indexOf(data, (byte) 0);
                out.write(data, 0, nul < 0 ? data.length : nul);
            }
            case UINT -> {
                ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
                switch (data.length) {
                    case 1 -> writeAscii(out, Integer.toString(Byte.toUnsignedInt(data[0])));
                    case 2 -> writeAscii(out, Integer.toString(Short.toUnsignedInt(b.getShort())));
                    case 4 -> writeAscii(out, Integer.toUnsignedString(b.getInt()));
                    case 8 -> writeAscii(out, Long.toUnsignedString(b.getLong()));
                    default -> {
                        // the kernel prints nothing for other sizes
                    }
                }
            }
        }
    }

    /**
     * Checks that field bytes can be shown; returns the reason they cannot, or null. Only the
     * digest-with-algorithm forms have a structure the kernel relies on.
     */
    String problem(byte[] data) {
        if (data.length == 0) {
            return null;
        }
        if (this == DIGEST_WITH_ALGO || this == DIGEST_WITH_TYPE_AND_ALGO) {
            int nul = indexOf(data, (byte) 0);
            if (nul < 1 || data[nul - 1] != ':') {
                return "digest field has no NUL-terminated \"<algo>:\" prefix";
            }
        }
        return null;
    }

    static int indexOf(byte[] data, byte b) {
        for (int i = 0; i < data.length; i++) {
            if (data[i] == b) {
                return i;
            }
        }
        return -1;
    }

    private static void writeAscii(ByteArrayOutputStream out, String s) {
        for (int i = 0; i < s.length(); i++) {
            out.write(s.charAt(i));
        }
    }
}
