package dev.imans.appraise;

import dev.imans.crypto.HashAlgo;
import java.util.EnumSet;
import java.util.Set;

/**
 * What the matching {@code appraise} rule and the system ask of a file.
 *
 * @param signatureRequired {@code appraise_type=imasig}: only a valid signature passes ({@code IMA_DIGSIG_REQUIRED})
 * @param allowedAlgos {@code appraise_algos=}: the algorithms a passing value may use; empty = any
 * @param defaultAlgo the kernel's {@code ima_hash=} algorithm: used for values that name none, and by fix mode
 */
public record Requirements(boolean signatureRequired, Set<HashAlgo> allowedAlgos, HashAlgo defaultAlgo) {
    public Requirements {
        allowedAlgos = allowedAlgos.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(allowedAlgos));
    }

    /** A plain {@code appraise} rule: hash or signature, any algorithm. */
    public static Requirements hashOrSignature(HashAlgo defaultAlgo) {
        return new Requirements(false, Set.of(), defaultAlgo);
    }

    /** {@code appraise_type=imasig}. */
    public static Requirements signature(HashAlgo defaultAlgo) {
        return new Requirements(true, Set.of(), defaultAlgo);
    }

    public boolean allows(HashAlgo algo) {
        return allowedAlgos.isEmpty() || allowedAlgos.contains(algo);
    }
}
