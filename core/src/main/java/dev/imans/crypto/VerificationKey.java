package dev.imans.crypto;

import java.security.PublicKey;
import java.util.Optional;

/**
 * A public key that may verify IMA signatures, with the ids a signature header can name it by:
 * evmctl's {@code calc_keyid_v2} id and, for a certificate, its SubjectKeyIdentifier tail (what
 * the kernel's keyring matches).
 */
public record VerificationKey(PublicKey publicKey, KeyId keyId, Optional<KeyId> subjectKeyId, String source) {
    public String algorithm() {
        return publicKey.getAlgorithm();
    }
}
