package dev.imans.tpm;

import dev.imans.crypto.HashAlgo;
import dev.imans.measure.MeasurementEntry;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The TPM anchor log: what the daemon extended into the anchor PCR, in order, so a verifier can replay
 * it to the PCR's value and tie each extension to one entry of one measurement list. Text, append-only,
 * one line per record written in one {@code write(2)} before the extension it describes:
 *
 * <pre>
 * imans-tpm-anchor 1
 * boot_id 4f1c...            (the boot the epoch began in; /proc/sys/kernel/random/boot_id)
 * pcr 23
 * banks sha1 sha256          (the TPM banks extended, in the order of each record's digests)
 * host 0 HEX HEX             (scope, entry index in that scope's list, one digest per bank)
 * 4026532208 0 HEX HEX
 * </pre>
 *
 * A scope is {@code host} or a namespace's mount namespace inode, as the list files are named. When a
 * namespace ends, {@code end 4026532208 4026532208-20261130T003411.123Z.list} says which archived file
 * holds the list its records so far belong to ({@code -} when none was kept): the kernel reuses inode
 * numbers, and a later namespace with the same one starts a new list from entry 0. An {@code end} line
 * is not extended: it only says where to find a list. A line without its newline is a record whose
 * write was cut off: it was never extended.
 */
public final class AnchorLog {
    public static final String FILE = "tpm-anchor.log";
    static final String MAGIC = "imans-tpm-anchor 1";
    private static final HexFormat HEX = HexFormat.of();

    private AnchorLog() {}

    /** What an epoch extends: the PCR and banks, and the boot the epoch began in. */
    public record Header(String bootId, int pcr, List<TpmAlg> banks) {
        public Header {
            Objects.requireNonNull(bootId, "bootId");
            banks = List.copyOf(banks);
            if (banks.isEmpty()) {
                throw new IllegalArgumentException("an anchor needs one or more banks");
            }
            if (pcr < 0 || pcr > 23) {
                throw new IllegalArgumentException("PCR index " + pcr + " out of range 0-23");
            }
            if (bootId.isEmpty() || bootId.chars().anyMatch(c -> c <= ' ' || c > '~')) {
                throw new IllegalArgumentException("boot id must be one printable word: '" + bootId + "'");
            }
        }

        public byte[] bytes() {
            StringBuilder b = new StringBuilder(MAGIC).append('\n');
            b.append("boot_id ").append(bootId).append('\n');
            b.append("pcr ").append(pcr).append('\n');
            b.append("banks");
            for (TpmAlg a : banks) {
                b.append(' ').append(a.hash().kernelName());
            }
            return b.append('\n').toString().getBytes(StandardCharsets.US_ASCII);
        }
    }

    /** One extension: entry {@code index} of {@code scope}'s list, its digest in each bank of the header. */
    public record Record(String scope, long index, List<byte[]> digests) {
        public Record {
            Objects.requireNonNull(scope, "scope");
            if (!scope.equals("host") && !scope.matches("[0-9]+")) {
                throw new IllegalArgumentException("scope must be host or a namespace inode: '" + scope + "'");
            }
            if (index < 0) {
                throw new IllegalArgumentException("negative entry index");
            }
            digests = List.copyOf(digests);
        }

        /** The record of {@code entry}: what the kernel extends into each bank for it. */
        public static Record of(String scope, long index, MeasurementEntry entry, List<TpmAlg> banks) {
            List<byte[]> d = new ArrayList<>(banks.size());
            for (TpmAlg a : banks) {
                d.add(digest(entry, a));
            }
            return new Record(scope, index, d);
        }

        public byte[] bytes() {
            StringBuilder b = new StringBuilder(scope).append(' ').append(index);
            for (byte[] d : digests) {
                b.append(' ').append(HEX.formatHex(d));
            }
            return b.append('\n').toString().getBytes(StandardCharsets.US_ASCII);
        }

        /** The digests as a PCR_Extend takes them. */
        public List<Tpm2.BankDigest> bankDigests(List<TpmAlg> banks) {
            List<Tpm2.BankDigest> out = new ArrayList<>(banks.size());
            for (int i = 0; i < banks.size(); i++) {
                out.add(new Tpm2.BankDigest(banks.get(i), digests.get(i)));
            }
            return out;
        }

        @Override
        public boolean equals(Object o) {
            if (!(o instanceof Record r) || !r.scope.equals(scope) || r.index != index
                    || r.digests.size() != digests.size()) {
                return false;
            }
            for (int i = 0; i < digests.size(); i++) {
                if (!Arrays.equals(r.digests.get(i), digests.get(i))) {
                    return false;
                }
            }
            return true;
        }

        @Override
        public int hashCode() {
            return Objects.hash(scope, index);
        }

        @Override
        public String toString() {
            return scope + " entry " + index;
        }
    }

    /**
     * The end of a scope's list: the records of {@code scope} before position {@code before} (in
     * {@link Parsed#records}) belong to the list archived as {@code archived}, or to none kept ({@code -}).
     */
    public record End(String scope, String archived, int before) {
        public static final String DROPPED = "-";

        public End {
            Objects.requireNonNull(scope, "scope");
            Objects.requireNonNull(archived, "archived");
            if (archived.isEmpty() || archived.chars().anyMatch(c -> c <= ' ' || c > '~') || archived.contains("/")) {
                throw new IllegalArgumentException("archived list must be a file name: '" + archived + "'");
            }
        }

        public static byte[] bytes(String scope, String archived) {
            return ("end " + scope + " " + archived + "\n").getBytes(StandardCharsets.US_ASCII);
        }
    }

    /**
     * Which list each record belongs to: its scope alone for the list it still has (live, or archived
     * after the log was written), {@code scope@file} for one an {@code end} line named.
     */
    public static List<String> listKeys(Parsed log) {
        List<String> keys = new ArrayList<>(log.records().size());
        // The ends of each scope, in order: a record belongs to the first end after it, if any.
        Map<String, java.util.ArrayDeque<End>> byScope = new LinkedHashMap<>();
        for (End end : log.ends()) {
            byScope.computeIfAbsent(end.scope(), k -> new java.util.ArrayDeque<>()).add(end);
        }
        for (int i = 0; i < log.records().size(); i++) {
            Record r = log.records().get(i);
            java.util.ArrayDeque<End> q = byScope.get(r.scope());
            while (q != null && !q.isEmpty() && q.peekFirst().before() <= i) {
                q.removeFirst();
            }
            keys.add(q == null || q.isEmpty() ? r.scope() : r.scope() + "@" + q.peekFirst().archived());
        }
        return keys;
    }

    /**
     * What the kernel extends into a TPM bank for {@code entry} (ima_queue.c): the bank's own template
     * digest (0xff… for a violation), or the SHA-1 one zero-padded where the algorithm cannot be computed here.
     */
    public static byte[] digest(MeasurementEntry entry, TpmAlg bank) {
        HashAlgo h = bank.hash();
        return h.isSupported() ? entry.extendDigest(h) : entry.extendPaddedSha1Digest(h);
    }

    /**
     * A log read back.
     *
     * @param header  its header
     * @param records its whole records
     * @param ends    its {@code end} lines, each with the number of records before it
     * @param end     the bytes holding the header and whole records: a torn last line starts here
     * @param torn    whether a line without its newline followed (a write cut off: never extended)
     */
    public record Parsed(Header header, List<Record> records, List<End> ends, int end, boolean torn) {
        public Parsed {
            records = List.copyOf(records);
            ends = List.copyOf(ends);
        }
    }

    /** Thrown for a log that is not one, or damaged before its last line. */
    public static final class FormatException extends Exception {
        private static final long serialVersionUID = 1L;

        public FormatException(String message) {
            super(message);
        }
    }

    public static Parsed parse(byte[] data) throws FormatException {
        String text = new String(data, StandardCharsets.US_ASCII);
        int pos = 0;
        List<String> head = new ArrayList<>();
        while (head.size() < 4) {
            int nl = text.indexOf('\n', pos);
            if (nl < 0) {
                throw new FormatException("incomplete header");
            }
            head.add(text.substring(pos, nl));
            pos = nl + 1;
        }
        if (!head.get(0).equals(MAGIC)) {
            throw new FormatException("not an imans TPM anchor log (first line '" + head.get(0) + "')");
        }
        Header header;
        try {
            String bootId = field(head.get(1), "boot_id");
            int pcr = Integer.parseInt(field(head.get(2), "pcr"));
            List<TpmAlg> banks = new ArrayList<>();
            for (String name : field(head.get(3), "banks").split(" ")) {
                HashAlgo h = HashAlgo.byName(name).orElseThrow(() -> new FormatException("unknown bank " + name));
                banks.add(TpmAlg.of(h).orElseThrow(() -> new FormatException("no TPM bank " + name)));
            }
            header = new Header(bootId, pcr, banks);
        } catch (IllegalArgumentException e) {
            throw new FormatException("bad header: " + e.getMessage());
        }
        List<Record> records = new ArrayList<>();
        List<End> ends = new ArrayList<>();
        int line = 5;
        while (pos < text.length()) {
            int nl = text.indexOf('\n', pos);
            if (nl < 0) {
                return new Parsed(header, records, ends, pos, true);
            }
            String l = text.substring(pos, nl);
            if (l.startsWith("end ")) {
                String[] parts = l.split(" ", -1);
                try {
                    if (parts.length != 3) {
                        throw new IllegalArgumentException("expected end SCOPE FILE");
                    }
                    new Record(parts[1], 0, List.of());
                    ends.add(new End(parts[1], parts[2], records.size()));
                } catch (IllegalArgumentException e) {
                    throw new FormatException("line " + line + ": " + e.getMessage());
                }
            } else {
                records.add(record(l, header, line));
            }
            pos = nl + 1;
            line++;
        }
        return new Parsed(header, records, ends, pos, false);
    }

    private static String field(String line, String key) throws FormatException {
        if (!line.startsWith(key + " ")) {
            throw new FormatException("expected '" + key + " ...', got '" + line + "'");
        }
        return line.substring(key.length() + 1);
    }

    private static Record record(String line, Header header, int number) throws FormatException {
        String[] parts = line.split(" ", -1);
        if (parts.length != 2 + header.banks().size()) {
            throw new FormatException("line " + number + ": expected scope, index and " + header.banks().size()
                    + " digests");
        }
        try {
            List<byte[]> digests = new ArrayList<>();
            for (int i = 0; i < header.banks().size(); i++) {
                byte[] d = HEX.parseHex(parts[2 + i]);
                if (d.length != header.banks().get(i).hash().digestSize()) {
                    throw new FormatException("line " + number + ": " + header.banks().get(i).hash()
                            + " digest of " + d.length + " bytes");
                }
                digests.add(d);
            }
            return new Record(parts[0], Long.parseLong(parts[1]), digests);
        } catch (IllegalArgumentException e) {
            throw new FormatException("line " + number + ": " + e.getMessage());
        }
    }

    /** The PCR values a TPM holds after extending a reset PCR with records, in order. */
    public static final class Replay {
        private final List<TpmAlg> banks;
        private final byte[][] values;

        /** From the reset value (all zeros) of each bank. */
        public Replay(List<TpmAlg> banks) {
            this.banks = List.copyOf(banks);
            this.values = new byte[banks.size()][];
            for (int i = 0; i < banks.size(); i++) {
                values[i] = new byte[banks.get(i).hash().digestSize()];
            }
        }

        public void extend(Record r) {
            for (int i = 0; i < banks.size(); i++) {
                MessageDigest md = banks.get(i).hash().isSupported() ? banks.get(i).hash().newDigest() : null;
                if (md == null) {
                    throw new HashAlgo.UnsupportedHashException(banks.get(i).hash());
                }
                md.update(values[i]);
                md.update(r.digests().get(i));
                values[i] = md.digest();
            }
        }

        /** The value of {@code bank} now, or null when this replay has no such bank. */
        public byte[] value(TpmAlg bank) {
            int i = banks.indexOf(bank);
            return i < 0 ? null : values[i].clone();
        }

        /** The value of each bank now. */
        public Map<TpmAlg, byte[]> values() {
            Map<TpmAlg, byte[]> out = new LinkedHashMap<>();
            for (int i = 0; i < banks.size(); i++) {
                out.put(banks.get(i), values[i].clone());
            }
            return out;
        }

        /** Whether {@code read} holds the same value in every bank of this replay. */
        public boolean matches(Map<TpmAlg, byte[]> read) {
            for (int i = 0; i < banks.size(); i++) {
                if (!Arrays.equals(values[i], read.get(banks.get(i)))) {
                    return false;
                }
            }
            return true;
        }

        public Replay copy() {
            Replay r = new Replay(banks);
            for (int i = 0; i < values.length; i++) {
                r.values[i] = values[i].clone();
            }
            return r;
        }
    }

    /** Whether every bank of {@code read} is at its reset value (all zeros). */
    public static boolean isReset(Map<TpmAlg, byte[]> read) {
        for (byte[] v : read.values()) {
            for (byte b : v) {
                if (b != 0) {
                    return false;
                }
            }
        }
        return true;
    }

    /** The length of the longest prefix of {@code records} whose replay in {@code bank} is {@code value}, if any. */
    public static Optional<Integer> matchingPrefix(List<TpmAlg> banks, List<Record> records, TpmAlg bank, byte[] value) {
        if (!banks.contains(bank)) {
            return Optional.empty();
        }
        Replay r = new Replay(banks);
        Optional<Integer> found = Arrays.equals(r.value(bank), value) ? Optional.of(0) : Optional.empty();
        for (int i = 0; i < records.size(); i++) {
            r.extend(records.get(i));
            if (Arrays.equals(r.value(bank), value)) {
                found = Optional.of(i + 1);
            }
        }
        return found;
    }

    /**
     * The length of the longest prefix of {@code records} whose replay {@code read} holds, if any: with
     * every record written before its extension, a PCR that holds a prefix is the log with its tail not
     * (yet) extended.
     */
    public static Optional<Integer> matchingPrefix(List<TpmAlg> banks, List<Record> records, Map<TpmAlg, byte[]> read) {
        Replay r = new Replay(banks);
        Optional<Integer> found = r.matches(read) ? Optional.of(0) : Optional.empty();
        for (int i = 0; i < records.size(); i++) {
            r.extend(records.get(i));
            if (r.matches(read)) {
                found = Optional.of(i + 1);
            }
        }
        return found;
    }
}
