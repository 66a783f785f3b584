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
 * Saves a {@link MeasurementList} and restores it exactly: same entries in the same order, same
 * counters, same PCR values. The body is the kernel's binary list with SHA-1 digests, so a saved
 * list stays readable by any tool that reads {@code binary_runtime_measurements}.
 *
 * <pre>
 *  0         8      9          10        11         11+B       19+B
 *  +---------+------+----------+---------+----------+----------+------------------------+
 *  |"IMANSML"| ver=1| ima_hash | B=banks | bank ids | entries  | binary list (SHA-1)    |
 *  | 7 bytes | u8   | u8 id    | u8      | u8 each  | u64 LE   |                        |
 *  +---------+------+----------+---------+----------+----------+------------------------+
 * </pre>
 */
public final class MeasurementListCodec {
    private static final byte[] MAGIC = "IMANSML".getBytes(StandardCharsets.US_ASCII);
    private static final int VERSION = 1;

    private MeasurementListCodec() {}

    public static byte[] save(MeasurementList.Snapshot list, List<HashAlgo> banks) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(MAGIC);
        out.write(VERSION);
        out.write(list.imaHash().id());
        out.write(banks.size());
        banks.forEach(b -> out.write(b.id()));
        out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(list.entries().size()).array());
        out.writeBytes(BinaryList.write(list.entries(), HashAlgo.SHA1));
        return out.toByteArray();
    }

    /** Saves {@code list} as it is now. */
    public static byte[] save(MeasurementList list) {
        return save(list.snapshot(), list.bankAlgos());
    }

    /**
     * Restores a saved list; every template digest is checked against its data on the way.
     *
     * @throws ListFormatException when the bytes are not a whole, intact saved list
     */
    public static MeasurementList restore(byte[] data) throws ListFormatException {
        int headerMin = MAGIC.length + 3;
        if (data.length < headerMin || !Arrays.equals(Arrays.copyOf(data, MAGIC.length), MAGIC)) {
            throw new ListFormatException(0, "not a saved imans measurement list (no IMANSML header)");
        }
        if (data[MAGIC.length] != VERSION) {
            throw new ListFormatException(MAGIC.length, "saved list version " + data[MAGIC.length] + " is not " + VERSION);
        }
        int pos = MAGIC.length + 1;
        HashAlgo imaHash = algo(data[pos], pos);
        int nBanks = Byte.toUnsignedInt(data[pos + 1]);
        pos += 2;
        if (data.length < pos + nBanks + 8) {
            throw new ListFormatException(pos, "truncated header");
        }
        List<HashAlgo> banks = new ArrayList<>();
        for (int i = 0; i < nBanks; i++) {
            banks.add(algo(data[pos], pos));
            pos++;
        }
        long count = ByteBuffer.wrap(data, pos, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        pos += 8;
        MeasurementList list;
        try {
            list = new MeasurementList(imaHash, banks);
        } catch (IllegalArgumentException e) {
            throw new ListFormatException(MAGIC.length + 2, e.getMessage());
        }
        int base = pos;
        List<ListRecord> records = BinaryList.read(Arrays.copyOfRange(data, pos, data.length), HashAlgo.SHA1);
        if (records.size() != count) {
            throw new ListFormatException(base, "header says " + count + " entries, found " + records.size());
        }
        for (ListRecord r : records) {
            if (!r.digestMatches()) {
                throw new ListFormatException(base + r.offset(), "template digest does not match the entry's data");
            }
            list.restore(r.entry());
        }
        return list;
    }

    private static HashAlgo algo(byte id, int offset) throws ListFormatException {
        HashAlgo a = HashAlgo.byId(Byte.toUnsignedInt(id))
                .orElseThrow(() -> new ListFormatException(offset, "unknown hash algorithm id " + Byte.toUnsignedInt(id)));
        if (!a.isSupported()) {
            throw new ListFormatException(offset, "hash algorithm " + a + " is not supported here");
        }
        return a;
    }
}
