package dev.imans.crypto;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The little DER (X.690) this package needs: reading tag-length-value elements and writing a
 * few constructed ones, enough to unwrap OpenSSL's key files and build PKCS#8, SPKI and
 * DigestInfo structures without a third-party ASN.1 library.
 */
public final class Der {
    public static final int INTEGER = 0x02;
    public static final int BIT_STRING = 0x03;
    public static final int OCTET_STRING = 0x04;
    public static final int NULL = 0x05;
    public static final int OID = 0x06;
    public static final int SEQUENCE = 0x30;
    /** {@code [0]} and {@code [1]} constructed, explicit context tags (SEC1 parameters and publicKey). */
    public static final int CONTEXT_0 = 0xa0;
    public static final int CONTEXT_1 = 0xa1;

    private Der() {}

    /** One element: its tag, and where its contents lie in {@code bytes}. */
    public record Element(int tag, byte[] bytes, int start, int offset, int length, int end) {
        public byte[] contents() {
            return Arrays.copyOfRange(bytes, offset, offset + length);
        }

        /** The whole element, header included. */
        public byte[] encoded() {
            return Arrays.copyOfRange(bytes, start, end);
        }

        /** The children of a constructed element. */
        public List<Element> children() {
            List<Element> out = new ArrayList<>();
            int p = offset;
            while (p < offset + length) {
                Element e = read(bytes, p, offset + length);
                out.add(e);
                p = e.end;
            }
            return out;
        }

        public Element expect(int wanted, String what) {
            if (tag != wanted) {
                throw new IllegalArgumentException(String.format("%s: expected DER tag 0x%02x, found 0x%02x",
                        what, wanted, tag));
            }
            return this;
        }
    }

    /** Reads the element at the start of {@code bytes}, which must span it exactly. */
    public static Element readWhole(byte[] bytes) {
        Element e = read(bytes, 0, bytes.length);
        if (e.end != bytes.length) {
            throw new IllegalArgumentException((bytes.length - e.end) + " stray bytes after the DER structure");
        }
        return e;
    }

    /** Reads one element starting at {@code p}, not reading past {@code limit}. */
    public static Element read(byte[] bytes, int p, int limit) {
        if (p + 2 > limit) {
            throw new IllegalArgumentException("DER element truncated at offset " + p);
        }
        int tag = bytes[p] & 0xff;
        if ((tag & 0x1f) == 0x1f) {
            throw new IllegalArgumentException("multi-byte DER tags are not used by key files (offset " + p + ")");
        }
        int first = bytes[p + 1] & 0xff;
        int q = p + 2;
        long len;
        if (first < 0x80) {
            len = first;
        } else {
            int n = first & 0x7f;
            if (n == 0 || n > 4 || q + n > limit) {
                throw new IllegalArgumentException("bad DER length at offset " + (p + 1));
            }
            len = 0;
            for (int i = 0; i < n; i++) {
                len = (len << 8) | (bytes[q++] & 0xff);
            }
        }
        if (len > limit - q) {
            throw new IllegalArgumentException("DER element at offset " + p + " claims " + len
                    + " bytes, only " + (limit - q) + " remain");
        }
        return new Element(tag, bytes, p, q, (int) len, q + (int) len);
    }

    /** The bits of a BIT STRING with no unused bits (keys and signatures always are whole bytes). */
    public static byte[] bitStringBytes(Element e) {
        e.expect(BIT_STRING, "BIT STRING");
        if (e.length() < 1 || e.bytes()[e.offset()] != 0) {
            throw new IllegalArgumentException("BIT STRING with unused bits");
        }
        return Arrays.copyOfRange(e.bytes(), e.offset() + 1, e.offset() + e.length());
    }

    public static byte[] tlv(int tag, byte[] contents) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(contents.length + 6);
        out.write(tag);
        int n = contents.length;
        if (n < 0x80) {
            out.write(n);
        } else if (n < 0x100) {
            out.write(0x81);
            out.write(n);
        } else if (n < 0x10000) {
            out.write(0x82);
            out.write(n >> 8);
            out.write(n);
        } else {
            out.write(0x83);
            out.write(n >> 16);
            out.write(n >> 8);
            out.write(n);
        }
        out.writeBytes(contents);
        return out.toByteArray();
    }

    public static byte[] sequence(byte[]... parts) {
        return tlv(SEQUENCE, concat(parts));
    }

    public static byte[] bitString(byte[] whole) {
        byte[] c = new byte[whole.length + 1];
        System.arraycopy(whole, 0, c, 1, whole.length);
        return tlv(BIT_STRING, c);
    }

    public static byte[] nullValue() {
        return new byte[] {NULL, 0};
    }

    public static byte[] integer(int value) {
        return tlv(INTEGER, java.math.BigInteger.valueOf(value).toByteArray());
    }

    /** Encodes a dotted object identifier, e.g. {@code 2.16.840.1.101.3.4.2.1}. */
    public static byte[] oid(String dotted) {
        String[] arcs = dotted.split("\\.");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(Integer.parseInt(arcs[0]) * 40 + Integer.parseInt(arcs[1]));
        for (int i = 2; i < arcs.length; i++) {
            long v = Long.parseLong(arcs[i]);
            int shift = 63 - Long.numberOfLeadingZeros(v | 1);
            for (int s = shift / 7 * 7; s > 0; s -= 7) {
                out.write((int) ((v >> s) & 0x7f) | 0x80);
            }
            out.write((int) (v & 0x7f));
        }
        return tlv(OID, out.toByteArray());
    }

    public static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
