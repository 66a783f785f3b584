package dev.imans.measure;

import dev.imans.crypto.HashAlgo;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.SortedSet;

/**
 * Replays a list read from a file, as {@code evmctl ima_measurement} does: checks every
 * non-violation record's template digest against its data and computes the PCRs each bank would
 * hold, both the way current kernels extend (each bank its own template digest) and the way
 * kernels before 5.8 did (the SHA-1 digest zero-padded into every bank).
 */
public final class ListVerifier {
    private ListVerifier() {}

    /** A record whose stored template digest is not the one its data gives. */
    public record DigestMismatch(int index, long offset, String name, byte[] stored, byte[] computed) {}

    /** How an expected PCR value compared. */
    public enum Match { PER_BANK, SHA1_PADDED, MISMATCH }

    /**
     * What a replay found.
     *
     * @param records    number of records
     * @param violations records with an all-zero digest
     * @param mismatches records whose digest does not match their data
     * @param pcrsUsed   PCR indexes the list extended
     * @param perBank    PCRs as current kernels extend them
     * @param padded     PCRs as kernels before 5.8 extended them
     */
    public record Report(int records, int violations, List<DigestMismatch> mismatches,
                         SortedSet<Integer> pcrsUsed, Map<HashAlgo, PcrBank> perBank,
                         Map<HashAlgo, PcrBank> padded) {
        public boolean digestsValid() {
            return mismatches.isEmpty();
        }

        /** Compares an expected value of PCR {@code index} in {@code bank} with both ways of extending. */
        public Match compare(HashAlgo bank, int index, byte[] expected) {
            if (Arrays.equals(perBank.get(bank).value(index), expected)) {
                return Match.PER_BANK;
            }
            return Arrays.equals(padded.get(bank).value(index), expected) ? Match.SHA1_PADDED : Match.MISMATCH;
        }
    }

    /** Replays {@code records} into fresh banks of {@code banks}. */
    public static Report replay(List<ListRecord> records, List<HashAlgo> banks) {
        Map<HashAlgo, PcrBank> perBank = new LinkedHashMap<>();
        Map<HashAlgo, PcrBank> padded = new LinkedHashMap<>();
        for (HashAlgo a : banks) {
            perBank.put(a, new PcrBank(a));
            padded.put(a, new PcrBank(a));
        }
        List<DigestMismatch> mismatches = new ArrayList<>();
        SortedSet<Integer> used = new TreeSet<>();
        int violations = 0;
        for (int i = 0; i < records.size(); i++) {
            ListRecord r = records.get(i);
            MeasurementEntry e = r.entry();
            used.add(e.pcr());
            if (e.isViolation()) {
                violations++;
            } else if (!r.digestMatches()) {
                mismatches.add(new DigestMismatch(i, r.offset(), e.eventName(), r.storedDigest(), e.digest(r.bank())));
            }
            for (HashAlgo a : banks) {
                perBank.get(a).extend(e.pcr(), e.extendDigest(a));
                padded.get(a).extend(e.pcr(), e.extendPaddedSha1Digest(a));
            }
        }
        return new Report(records.size(), violations, List.copyOf(mismatches),
                java.util.Collections.unmodifiableSortedSet(used), perBank, padded);
    }
}
