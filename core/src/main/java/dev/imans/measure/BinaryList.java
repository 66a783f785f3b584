package dev.imans.measure;

import dev.imans.crypto.HashAlgo;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The binary measurement list ({@code binary_runtime_measurements[_<bank>]},
 * ima_measurements_show in security/integrity/ima/ima_fs.c). Integers are little-endian: the
 * kernel's canonical format and native on x86 and arm64 (big-endian native lists are refused
 * with a PCR index out of range).
 *
 * <pre>
 *  0        4                4+D        8+D          8+D+L     12+D+L
 *  +--------+----------------+----------+------------+---------+--------------------------+
 *  | pcr u32| template digest| name_len | name       | data_len| fields: u32 len ‖ data … |
 *  |        | D = bank size  | u32      | (no NUL)   | u32     | (data_len bytes)         |
 *  +--------+----------------+----------+------------+---------+--------------------------+
 *  template "ima": no data_len; d written as 20 raw bytes, n as u32 strlen ‖ chars (no NUL).
 * </pre>
 *
 * The {@code binary_runtime_measurements} file holds SHA-1 digests (D = 20);
 * {@code binary_runtime_measurements_sha256} holds SHA-256 ones (D = 32).
 */
public final class BinaryList {
    /** Longest template name a record may carry (the kernel's restore limit, MAX_TEMPLATE_NAME_LEN). */
    public static final int MAX_TEMPLATE_NAME_LEN = 255;

    private BinaryList() {}

    /** Writes {@code entries} with template digests of {@code bank}. */
    public static byte[] write(List<MeasurementEntry> entries, HashAlgo bank) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (MeasurementEntry e : entries) {
            writeRecord(out, e, e.digest(bank));
        }
        return out.toByteArray();
    }

    /** Writes records with the digests they hold (so a read list is re-encoded byte for byte). */
    public static byte[] writeRecords(List<ListRecord> records) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (ListRecord r : records) {
            writeRecord(out, r.entry(), r.storedDigest());
        }
        return out.toByteArray();
    }

    static void writeRecord(ByteArrayOutputStream out, MeasurementEntry e, byte[] digest) {
        byte[] name = e.template().name().getBytes(StandardCharsets.UTF_8);
        out.writeBytes(le32(e.pcr()));
        out.writeBytes(digest);
        out.writeBytes(le32(name.length));
        out.writeBytes(name);
        if (e.template().isIma()) {
            out.writeBytes(e.fieldUnsafe(0));
            byte[] n = e.fieldUnsafe(1);
            out.writeBytes(le32(n.length - 1));
            out.write(n, 0, n.length - 1);
            return;
        }
        out.writeBytes(le32(e.templateDataLength()));
        for (int i = 0; i < e.fieldCount(); i++) {
            out.writeBytes(le32(e.fieldLength(i)));
            out.writeBytes(e.fieldUnsafe(i));
        }
    }

    /**
     * Reads a whole list whose template digests are of {@code bank}. Checks the layout only:
     * whether digests match their data is {@link ListRecord#digestMatches()}'s question.
     *
     * @throws ListFormatException naming the offset and the reason, for truncated records,
     *                             lengths past the end, unknown templates, bad PCR indexes
     */
    public static List<ListRecord> read(byte[] data, HashAlgo bank) throws ListFormatException {
        Reader r = new Reader(data, bank, 0);
        List<ListRecord> out = new ArrayList<>();
        while (r.pos < data.length) {
            out.add(r.record());
        }
        return out;
    }

    /**
     * The whole records of a list written by appending that may end in a torn one.
     *
     * @param records the whole records, offsets counted from the start of {@code data}
     * @param end     where the last whole record ends: the bytes to keep
     * @param torn    why the bytes after {@code end} are not a record (absent when there are none)
     */
    public record Prefix(List<ListRecord> records, int end, java.util.Optional<String> torn) {}

    /**
     * Reads the records of {@code data} from {@code from} on, as {@link #read}, except that the bytes
     * after the last whole record are returned as a torn tail when they are a record cut short (the
     * writer died inside its write) or nothing but zero bytes (a filesystem that grew the file but lost
     * its data in a power failure). Anything else malformed throws, as {@link #read} does.
     */
    public static Prefix readPrefix(byte[] data, int from, HashAlgo bank) throws ListFormatException {
        Reader r = new Reader(data, bank, from);
        List<ListRecord> out = new ArrayList<>();
        while (r.pos < data.length) {
            int start = r.pos;
            try {
                out.add(r.record());
            } catch (ListFormatException e) {
                if (!e.truncated() && !zeros(data, start)) {
                    throw e;
                }
                return new Prefix(out, start, java.util.Optional.of((data.length - start) + " bytes at offset " + start
                        + (e.truncated() ? " are a record cut short (" + e.reason() + ")" : " are zeros")));
            }
        }
        return new Prefix(out, data.length, java.util.Optional.empty());
    }

    private static boolean zeros(byte[] data, int from) {
        for (int i = from; i < data.length; i++) {
            if (data[i] != 0) {
                return false;
            }
        }
        return true;
    }

    private static byte[] le32(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
    }

    private static final class Reader {
        private final byte[] data;
        private final HashAlgo bank;
        private final ByteBuffer buf;
        private int pos;
        private int start;

        Reader(byte[] data, HashAlgo bank, int from) {
            this.data = data;
            this.bank = bank;
            this.buf = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
            this.pos = from;
        }

        ListRecord record() throws ListFormatException {
            start = pos;
            int pcr = u32("PCR index");
            if (pcr < 0 || pcr >= PcrBank.PCR_COUNT) {
                throw fail("PCR index " + Integer.toUnsignedString(pcr) + " out of range 0-"
                        + (PcrBank.PCR_COUNT - 1) + " (not a little-endian list?)");
            }
            byte[] digest = bytes(bank.digestSize(), bank + " template digest");
            int nameLen = u32("template name length");
            if (nameLen < 1 || nameLen > MAX_TEMPLATE_NAME_LEN) {
                throw fail("template name length " + Integer.toUnsignedString(nameLen) + " not in 1-" + MAX_TEMPLATE_NAME_LEN);
            }
            byte[] nameBytes = bytes(nameLen, "template name");
            String name = new String(nameBytes, StandardCharsets.UTF_8);
            if (!Arrays.equals(name.getBytes(StandardCharsets.UTF_8), nameBytes)) {
                throw fail("template name is not valid UTF-8");
            }
            Template t = Template.forListName(name)
                    .orElseThrow(() -> fail("unknown template '" + printable(name) + "'"));
            List<byte[]> fields = t.isIma() ? imaFields() : fields(t);
            boolean violation = ListRecord.isZero(digest);
            for (int i = 0; i < fields.size(); i++) {
                String problem = t.fields().get(i).format().problem(fields.get(i));
                if (problem != null) {
                    throw fail("field " + t.fields().get(i).id() + ": " + problem);
                }
            }
            return new ListRecord(start, bank, digest, MeasurementEntry.of(pcr, t, fields, violation));
        }

        private List<byte[]> imaFields() throws ListFormatException {
            byte[] d = bytes(Field.D_DIGEST_SIZE, "ima template digest (d)");
            int len = u32("ima template name length");
            if (len < 0 || len > Field.EVENT_NAME_LEN_MAX) {
                throw fail("ima template name length " + Integer.toUnsignedString(len) + " exceeds " + Field.EVENT_NAME_LEN_MAX);
            }
            byte[] n = bytes(len, "ima template name (n)");
            if (DataFormat.indexOf(n, (byte) 0) >= 0) {
                throw fail("ima template name (n) contains a NUL byte");
            }
            return List.of(d, Arrays.copyOf(n, len + 1));
        }

        private List<byte[]> fields(Template t) throws ListFormatException {
            int dataLen = u32("template data length");
            if (dataLen < 0 || dataLen > data.length - pos) {
                String why = "truncated record: template data length " + Integer.toUnsignedString(dataLen)
                        + " exceeds the " + (data.length - pos) + " bytes left";
                // A negative length is no record at all; a length past the end is one cut short.
                throw dataLen < 0 ? fail(why) : cut(why);
            }
            int end = pos + dataLen;
            List<byte[]> out = new ArrayList<>(t.fields().size());
            for (Field f : t.fields()) {
                if (end - pos < 4) {
                    throw fail("template data ends before field " + f.id() + " of " + t.name());
                }
                int len = buf.getInt(pos);
                pos += 4;
                if (len < 0 || len > end - pos) {
                    throw fail("field " + f.id() + " length " + Integer.toUnsignedString(len)
                            + " exceeds the " + (end - pos) + " bytes left in the template data");
                }
                out.add(Arrays.copyOfRange(data, pos, pos + len));
                pos += len;
            }
            if (pos != end) {
                throw fail("template data length " + dataLen + " leaves " + (end - pos)
                        + " bytes after the last field of " + t.name());
            }
            return out;
        }

        private int u32(String what) throws ListFormatException {
            if (data.length - pos < 4) {
                throw cut("truncated record: " + what + " needs 4 bytes, " + (data.length - pos) + " left");
            }
            int v = buf.getInt(pos);
            pos += 4;
            return v;
        }

        private byte[] bytes(int n, String what) throws ListFormatException {
            if (data.length - pos < n) {
                throw cut("truncated record: " + what + " needs " + n + " bytes, " + (data.length - pos) + " left");
            }
            byte[] b = Arrays.copyOfRange(data, pos, pos + n);
            pos += n;
            return b;
        }

        private ListFormatException fail(String reason) {
            return new ListFormatException(start, reason);
        }

        private ListFormatException cut(String reason) {
            return new ListFormatException(start, reason, true);
        }
    }

    static String printable(String s) {
        StringBuilder b = new StringBuilder();
        s.codePoints().limit(64).forEach(c -> {
            if (c < 0x20 || c == 0x7f) {
                b.append(String.format("\\x%02x", c));
            } else {
                b.appendCodePoint(c);
            }
        });
        return b.toString();
    }
}
