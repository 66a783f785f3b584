package dev.imans.measure;

import dev.imans.crypto.HashAlgo;
import java.util.Arrays;
import java.util.Objects;

/**
 * One record as read from a list file: where it starts, the template digest the file holds (in
 * the file's bank), and the entry. An all-zero stored digest marks a violation.
 */
public record ListRecord(long offset, HashAlgo bank, byte[] storedDigest, MeasurementEntry entry) {
    public ListRecord {
        Objects.requireNonNull(bank, "bank");
        Objects.requireNonNull(entry, "entry");
        storedDigest = storedDigest.clone();
    }

    @Override
    public byte[] storedDigest() {
        return storedDigest.clone();
    }

    /** Whether the stored digest is the one the entry's data gives (always true for violations). */
    public boolean digestMatches() {
        return Arrays.equals(storedDigest, entry.digest(bank));
    }

    static boolean isZero(byte[] b) {
        for (byte x : b) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ListRecord r && r.offset == offset && r.bank == bank
                && Arrays.equals(r.storedDigest, storedDigest) && r.entry.equals(entry);
    }

    @Override
    public int hashCode() {
        return Objects.hash(offset, bank, entry) * 31 + Arrays.hashCode(storedDigest);
    }
}
