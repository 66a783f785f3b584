package dev.imans.measure;

import dev.imans.crypto.HashAlgo;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The file a {@link MeasurementList} is kept in, written by appending: a header naming the list's
 * {@code ima_hash} and banks, then one record per entry in the kernel's binary list format with SHA-1
 * digests, so the body stays readable by any tool that reads {@code binary_runtime_measurements}.
 * Restoring replays every entry (checking its template digest against its data), which gives back the
 * same entries in the same order, the same counters and the same PCR values.
 *
 * <pre>
 *  0         7      8          9         10         10+B
 *  +---------+------+----------+---------+----------+-------------------------------------+
 *  |"IMANSML"| ver=2| ima_hash | B=banks | bank ids | records (binary list, SHA-1), each  |
 *  | 7 bytes | u8   | u8 id    | u8      | u8 each  | appended whole by one write         |
 *  +---------+------+----------+---------+----------+-------------------------------------+
 * </pre>
 *
 * Version 1 files (written whole, with a u64 LE entry count after the bank ids) are still read.
 */
public final class MeasurementListCodec {
    private static final byte[] MAGIC = "IMANSML".getBytes(StandardCharsets.US_ASCII);
    /** The whole-file image with an entry count. */
    private static final int VERSION_WHOLE = 1;
    /** The append-only file: no count, a torn last record is possible. */
    public static final int VERSION = 2;

    private MeasurementListCodec() {}

    /** The header of a list with these hashes. */
    public static byte[] header(HashAlgo imaHash, List<HashAlgo> banks) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(MAGIC);
        out.write(VERSION);
        out.write(imaHash.id());
        out.write(banks.size());
        banks.forEach(b -> out.write(b.id()));
        return out.toByteArray();
    }

    /** Appends the record of {@code e} to {@code out}: what one entry adds to the file. */
    public static void writeRecord(ByteArrayOutputStream out, MeasurementEntry e) {
        BinaryList.writeRecord(out, e, e.digest(HashAlgo.SHA1));
    }

    /** The whole file of {@code list} as it is now: header and every entry. */
    public static byte[] save(MeasurementList list) {
        MeasurementList.Snapshot s = list.snapshot();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(header(s.imaHash(), list.bankAlgos()));
        for (MeasurementEntry e : s.entries()) {
            writeRecord(out, e);
        }
        return out.toByteArray();
    }

    /**
     * A restored list, and what its file needs before more is appended.
     *
     * @param list    the entries read, replayed into their PCRs
     * @param version the file's format version: below {@link #VERSION} it must be rewritten before appending
     * @param end     the bytes of the file that hold whole records: a torn tail after them is to be cut
     * @param torn    what was after {@code end} and why it was dropped, if anything was
     */
    public record Restored(MeasurementList list, int version, int end, Optional<String> torn) {}

    /**
     * Restores a list from its file, dropping a torn last record (see {@link BinaryList#readPrefix}).
     *
     * @throws ListFormatException when the header is not intact, a record before the end is malformed,
     *     or a template digest does not match its entry's data
     */
    public static Restored open(byte[] data) throws ListFormatException {
        int headerMin = MAGIC.length + 3;
        if (data.length < headerMin || !Arrays.equals(Arrays.copyOf(data, MAGIC.length), MAGIC)) {
            throw new ListFormatException(0, "not a saved imans measurement list (no IMANSML header)");
        }
        int version = data[MAGIC.length];
        if (version != VERSION && version != VERSION_WHOLE) {
            throw new ListFormatException(MAGIC.length, "saved list version " + version + " is not " + VERSION);
        }
        int pos = MAGIC.length + 1;
        HashAlgo imaHash = algo(data[pos], pos);
        int nBanks = Byte.toUnsignedInt(data[pos + 1]);
        pos += 2;
        int countSize = version == VERSION_WHOLE ? 8 : 0;
        if (data.length < pos + nBanks + countSize) {
            throw new ListFormatException(pos, "truncated header");
        }
        List<HashAlgo> banks = new ArrayList<>();
        for (int i = 0; i < nBanks; i++) {
            banks.add(algo(data[pos], pos));
            pos++;
        }
        MeasurementList list;
        try {
            list = new MeasurementList(imaHash, banks);
        } catch (IllegalArgumentException e) {
            throw new ListFormatException(MAGIC.length + 2, e.getMessage());
        }
        BinaryList.Prefix body;
        if (version == VERSION_WHOLE) {
            // Written whole through a rename: any damage is damage, not a torn append.
            long count = ByteBuffer.wrap(data, pos, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            pos += 8;
            List<ListRecord> records = BinaryList.read(Arrays.copyOfRange(data, pos, data.length), HashAlgo.SHA1);
            if (records.size() != count) {
                throw new ListFormatException(pos, "header says " + count + " entries, found " + records.size());
            }
            List<ListRecord> shifted = new ArrayList<>();
            for (ListRecord r : records) {
                shifted.add(new ListRecord(pos + r.offset(), r.bank(), r.storedDigest(), r.entry()));
            }
            body = new BinaryList.Prefix(shifted, data.length, Optional.empty());
        } else {
            body = BinaryList.readPrefix(data, pos, HashAlgo.SHA1);
        }
        for (ListRecord r : body.records()) {
            if (!r.digestMatches()) {
                throw new ListFormatException(r.offset(), "template digest does not match the entry's data");
            }
            list.restore(r.entry());
        }
        return new Restored(list, version, body.end(), body.torn());
    }

    /** Whether {@code data} opens with this format's header (else it may be a kernel binary list). */
    public static boolean isListFile(byte[] data) {
        return data.length >= MAGIC.length && Arrays.equals(Arrays.copyOf(data, MAGIC.length), MAGIC);
    }

    /**
     * The kernel binary list (SHA-1 digests) inside a list file: the bytes after its header.
     *
     * @throws ListFormatException when the header is not intact
     */
    public static byte[] binaryList(byte[] data) throws ListFormatException {
        if (data.length < MAGIC.length + 3 || !isListFile(data)) {
            throw new ListFormatException(0, "not a saved imans measurement list (no IMANSML header)");
        }
        int version = data[MAGIC.length];
        if (version != VERSION && version != VERSION_WHOLE) {
            throw new ListFormatException(MAGIC.length, "saved list version " + version + " is not " + VERSION);
        }
        int body = MAGIC.length + 3 + Byte.toUnsignedInt(data[MAGIC.length + 2]) + (version == VERSION_WHOLE ? 8 : 0);
        if (data.length < body) {
            throw new ListFormatException(MAGIC.length + 3, "truncated header");
        }
        return Arrays.copyOfRange(data, body, data.length);
    }

    /**
     * Restores a list from a file that must be whole: no torn tail.
     *
     * @throws ListFormatException when the bytes are not a whole, intact saved list
     */
    public static MeasurementList restore(byte[] data) throws ListFormatException {
        Restored r = open(data);
        if (r.torn().isPresent()) {
            throw new ListFormatException(r.end(), "torn tail: " + r.torn().get());
        }
        return r.list();
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
