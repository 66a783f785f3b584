package dev.imans.measure;

import dev.imans.crypto.HashAlgo;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;

/**
 * A software PCR bank: 24 registers of one hash algorithm, all zero at start (a TPM after reset,
 * PCRs 0-15), extended as a TPM does: {@code PCR_new = H(PCR_old ‖ digest)}. Mutable and not
 * thread-safe: one owner extends it; {@link #copy()} hands out a snapshot.
 */
public final class PcrBank {
    /** TPM_NUM_PCR (the PC Client profile's 24 PCRs). */
    public static final int PCR_COUNT = 24;

    private final HashAlgo algo;
    private final byte[][] values;

    public PcrBank(HashAlgo algo) {
        this.algo = Objects.requireNonNull(algo, "algo");
        algo.newDigest();
        this.values = new byte[PCR_COUNT][algo.digestSize()];
    }

    private PcrBank(PcrBank other) {
        this.algo = other.algo;
        this.values = new byte[PCR_COUNT][];
        for (int i = 0; i < PCR_COUNT; i++) {
            values[i] = other.values[i].clone();
        }
    }

    public HashAlgo algo() {
        return algo;
    }

    /** Extends PCR {@code index} with {@code digest}, which must be of this bank's size. */
    public void extend(int index, byte[] digest) {
        checkIndex(index);
        if (digest.length != algo.digestSize()) {
            throw new IllegalArgumentException(algo + " PCR extend needs " + algo.digestSize()
                    + " bytes, got " + digest.length);
        }
        MessageDigest md = algo.newDigest();
        md.update(values[index]);
        md.update(digest);
        values[index] = md.digest();
    }

    /** Sets a register, e.g. from a PCR file or a TPM read. */
    public void set(int index, byte[] value) {
        checkIndex(index);
        if (value.length != algo.digestSize()) {
            throw new IllegalArgumentException(algo + " PCR value must be " + algo.digestSize()
                    + " bytes, got " + value.length);
        }
        values[index] = value.clone();
    }

    public byte[] value(int index) {
        checkIndex(index);
        return values[index].clone();
    }

    public String hex(int index) {
        return HexFormat.of().formatHex(value(index));
    }

    /** Whether PCR {@code index} still holds its reset value (all zeros). */
    public boolean isZero(int index) {
        checkIndex(index);
        for (byte b : values[index]) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }

    public PcrBank copy() {
        return new PcrBank(this);
    }

    private static void checkIndex(int index) {
        if (index < 0 || index >= PCR_COUNT) {
            throw new IllegalArgumentException("PCR index " + index + " out of range 0-" + (PCR_COUNT - 1));
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PcrBank b && b.algo == algo && Arrays.deepEquals(b.values, values);
    }

    @Override
    public int hashCode() {
        return algo.hashCode() * 31 + Arrays.deepHashCode(values);
    }

    @Override
    public String toString() {
        return "PcrBank[" + algo + "]";
    }
}
