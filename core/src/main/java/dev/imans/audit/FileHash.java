package dev.imans.audit;

import dev.imans.crypto.HashAlgo;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;

/**
 * The {@code hash="<algo>:<hex>"} value of the {@code audit} action record
 * (ima_api.c {@code ima_audit_measurement}: {@code hash_algo_name[]} and lower-case
 * {@code hex_byte_pack}).
 */
public record FileHash(HashAlgo algo, byte[] digest) {
    public FileHash {
        Objects.requireNonNull(algo, "algo");
        if (digest.length != algo.digestSize()) {
            throw new IllegalArgumentException(algo + " digest must be " + algo.digestSize() + " bytes, got " + digest.length);
        }
        digest = digest.clone();
    }

    @Override
    public byte[] digest() {
        return digest.clone();
    }

    /** {@code sha256:5891b5...}, the text between the quotes. */
    public String text() {
        return algo.kernelName() + ":" + HexFormat.of().formatHex(digest);
    }

    /** Parses {@link #text()}. */
    public static FileHash parse(String text) {
        int colon = text.lastIndexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("hash must be <algo>:<hex>, got " + text);
        }
        HashAlgo algo = HashAlgo.byName(text.substring(0, colon))
                .orElseThrow(() -> new IllegalArgumentException("unknown hash algorithm in " + text));
        return new FileHash(algo, HexFormat.of().parseHex(text.substring(colon + 1)));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FileHash other && algo == other.algo && Arrays.equals(digest, other.digest);
    }

    @Override
    public int hashCode() {
        return algo.hashCode() * 31 + Arrays.hashCode(digest);
    }

    @Override
    public String toString() {
        return text();
    }
}
