package dev.imans.measure;

import dev.imans.crypto.HashAlgo;
import java.nio.ByteBuffer;
import java.util.AbstractList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.RandomAccess;
import java.util.Set;

/**
 * A runtime measurement list with its software PCR banks, as ima_queue.c keeps it: append-only
 * (no entry is ever removed or changed), an entry whose template digest is already in the list
 * for the same PCR is not added again ({@code hash_exists}), every added entry extends its PCR in
 * every bank, and violations extend with 0xff… and are counted.
 *
 * <p>Ownership: one writer calls {@link #add}; readers take a {@link #snapshot()}, which is
 * immutable and stays valid while the writer goes on appending. Handing a snapshot to another
 * thread needs the usual safe publication (a lock or a volatile field), which is the caller's.
 */
public final class MeasurementList {
    /** What {@link #add} did. */
    public enum AddResult {
        ADDED,
        /** Same template digest and PCR already listed: the kernel's {@code hash_exists}. */
        DUPLICATE
    }

    /** The banks a list has unless told otherwise: those evmctl and current kernels use. */
    public static final List<HashAlgo> DEFAULT_BANKS = List.of(HashAlgo.SHA1, HashAlgo.SHA256);

    private final HashAlgo imaHash;
    private final List<HashAlgo> bankAlgos;
    private final Map<HashAlgo, PcrBank> banks = new LinkedHashMap<>();
    private final Set<Key> seen = new HashSet<>();
    private MeasurementEntry[] entries = new MeasurementEntry[64];
    private int size;
    private long violations;

    /** An empty list with SHA-256 as {@code ima_hash} and the SHA-1 and SHA-256 banks. */
    public MeasurementList() {
        this(HashAlgo.SHA256, DEFAULT_BANKS);
    }

    /**
     * @param imaHash the list's hash algorithm ({@code ima_hash=}): duplicates are found by the
     *                template digest in this algorithm
     * @param banks   the PCR banks to keep, each extended with its own template digest
     */
    public MeasurementList(HashAlgo imaHash, List<HashAlgo> banks) {
        this.imaHash = Objects.requireNonNull(imaHash, "imaHash");
        imaHash.newDigest();
        this.bankAlgos = List.copyOf(banks);
        if (bankAlgos.isEmpty() || new HashSet<>(bankAlgos).size() != bankAlgos.size()) {
            throw new IllegalArgumentException("a list needs one or more distinct PCR banks, got " + banks);
        }
        for (HashAlgo a : bankAlgos) {
            this.banks.put(a, new PcrBank(a));
        }
    }

    public HashAlgo imaHash() {
        return imaHash;
    }

    public List<HashAlgo> bankAlgos() {
        return bankAlgos;
    }

    /**
     * Appends {@code e} unless it duplicates a listed entry (violations are never duplicates),
     * and extends its PCR in every bank.
     */
    public AddResult add(MeasurementEntry e) {
        Objects.requireNonNull(e, "entry");
        if (e.isViolation()) {
            // ima_add_violation() counts before it stores.
            violations++;
        } else if (!seen.add(new Key(e.pcr(), e.digest(imaHash)))) {
            return AddResult.DUPLICATE;
        }
        append(e);
        return AddResult.ADDED;
    }

    /** Appends without looking for duplicates: for restoring a list exactly as it was. */
    void restore(MeasurementEntry e) {
        if (e.isViolation()) {
            violations++;
        } else {
            seen.add(new Key(e.pcr(), e.digest(imaHash)));
        }
        append(e);
    }

    private void append(MeasurementEntry e) {
        if (size == entries.length) {
            // A new array: snapshots keep the old one, whose first `size` slots never change.
            entries = Arrays.copyOf(entries, size * 2);
        }
        entries[size++] = e;
        for (PcrBank b : banks.values()) {
            b.extend(e.pcr(), e.extendDigest(b.algo()));
        }
    }

    /** Entry {@code index} (0 is the first added). */
    public MeasurementEntry entry(int index) {
        java.util.Objects.checkIndex(index, size);
        return entries[index];
    }

    /** {@code runtime_measurements_count}: entries in the list, violations included. */
    public long runtimeMeasurementsCount() {
        return size;
    }

    /** {@code violations}: violations recorded. */
    public long violations() {
        return violations;
    }

    /** A copy of the bank of {@code algo}. */
    public PcrBank bank(HashAlgo algo) {
        PcrBank b = banks.get(algo);
        if (b == null) {
            throw new IllegalArgumentException("this list has no " + algo + " bank (it has " + bankAlgos + ")");
        }
        return b.copy();
    }

    /** An immutable view of the list as it is now. */
    public Snapshot snapshot() {
        Map<HashAlgo, PcrBank> copies = new LinkedHashMap<>();
        banks.forEach((a, b) -> copies.put(a, b.copy()));
        return new Snapshot(imaHash, new EntriesView(entries, size), violations, copies);
    }

    /**
     * The entries and counters of a list at one moment, and its PCR banks then. The banks are
     * copies that belong to the snapshot: take {@link #bank} copies to extend them further.
     */
    public record Snapshot(HashAlgo imaHash, List<MeasurementEntry> entries, long violations,
                           Map<HashAlgo, PcrBank> banks) {
        public Snapshot {
            banks = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(banks));
        }

        public long runtimeMeasurementsCount() {
            return entries.size();
        }

        /** A copy of the bank of {@code algo}. */
        public PcrBank bank(HashAlgo algo) {
            PcrBank b = banks.get(algo);
            if (b == null) {
                throw new IllegalArgumentException("no " + algo + " bank in this snapshot");
            }
            return b.copy();
        }
    }

    private static final class EntriesView extends AbstractList<MeasurementEntry> implements RandomAccess {
        private final MeasurementEntry[] array;
        private final int size;

        EntriesView(MeasurementEntry[] array, int size) {
            this.array = array;
            this.size = size;
        }

        @Override
        public MeasurementEntry get(int index) {
            Objects.checkIndex(index, size);
            return array[index];
        }

        @Override
        public int size() {
            return size;
        }
    }

    private record Key(int pcr, ByteBuffer digest) {
        Key(int pcr, byte[] digest) {
            this(pcr, ByteBuffer.wrap(digest));
        }
    }
}
