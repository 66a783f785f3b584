package dev.imans.tpm;

import dev.imans.crypto.HashAlgo;
import java.util.Optional;

/**
 * The TPM 2.0 algorithm ids ({@code TPM_ALG_ID}, TCG Algorithm Registry) of the hash algorithms a PCR
 * bank can use, and the kernel's algorithm for each (the kernel's {@code tpm2_hash_map}).
 */
public enum TpmAlg {
    SHA1(0x0004, HashAlgo.SHA1),
    SHA256(0x000B, HashAlgo.SHA256),
    SHA384(0x000C, HashAlgo.SHA384),
    SHA512(0x000D, HashAlgo.SHA512),
    SM3_256(0x0012, HashAlgo.SM3_256),
    SHA3_256(0x0027, HashAlgo.SHA3_256),
    SHA3_384(0x0028, HashAlgo.SHA3_384),
    SHA3_512(0x0029, HashAlgo.SHA3_512);

    private final int id;
    private final HashAlgo hash;

    TpmAlg(int id, HashAlgo hash) {
        this.id = id;
        this.hash = hash;
    }

    /** The {@code TPM_ALG_ID}. */
    public int id() {
        return id;
    }

    public HashAlgo hash() {
        return hash;
    }

    public static Optional<TpmAlg> byId(int id) {
        for (TpmAlg a : values()) {
            if (a.id == id) {
                return Optional.of(a);
            }
        }
        return Optional.empty();
    }

    public static Optional<TpmAlg> of(HashAlgo hash) {
        for (TpmAlg a : values()) {
            if (a.hash == hash) {
                return Optional.of(a);
            }
        }
        return Optional.empty();
    }
}
