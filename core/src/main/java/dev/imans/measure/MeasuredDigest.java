package dev.imans.measure;

import dev.imans.crypto.HashAlgo;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;

/** A digest together with the algorithm that made it, as IMA keeps a file's hash. */
public record MeasuredDigest(HashAlgo algo, byte[] value) {
    public MeasuredDigest {
        Objects.requireNonNull(algo, "algo");
        value = value.clone();
        if (value.length != algo.digestSize()) {
            throw new IllegalArgumentException(algo + " digest must be " + algo.digestSize()
                    + " bytes, got " + value.length);
        }
    }

    /** The all-zero digest of {@code algo}: what IMA records when there is nothing to hash. */
    public static MeasuredDigest zero(HashAlgo algo) {
        return new MeasuredDigest(algo, new byte[algo.digestSize()]);
    }

    @Override
    public byte[] value() {
        return value.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MeasuredDigest d && d.algo == algo && Arrays.equals(d.value, value);
    }

    @Override
    public int hashCode() {
        return algo.hashCode() * 31 + Arrays.hashCode(value);
    }

    @Override
    public String toString() {
        return algo + ":" + HexFormat.of().formatHex(value);
    }
}
