package dev.imans.crypto;

import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.Key;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.SignatureException;

/**
 * Signs and verifies a file digest exactly as a v2 IMA signature does: the signed message is the
 * digest itself, not the file (security/integrity/digsig_asymmetric.c, evmctl's
 * {@code sign_hash_v2} via {@code EVP_PKEY_sign} with the signature md set).
 *
 * <ul>
 * <li>RSA: PKCS#1 v1.5 type 1 padding over {@link DigestInfo}; {@code NONEwithRSA} pads without
 *     hashing, so feeding it the DigestInfo gives OpenSSL's bytes exactly (RSA v1.5 is
 *     deterministic).
 * <li>EC: ECDSA over the digest, signature as X9.62 DER {@code SEQUENCE { r, s }};
 *     {@code NONEwithECDSA} takes the digest as the already-hashed message.
 * </ul>
 */
public final class DigestSignature {
    private DigestSignature() {}

    public static byte[] sign(PrivateKey key, HashAlgo algo, byte[] digest) throws GeneralSecurityException {
        Signature s = signature(key);
        s.initSign(key);
        s.update(message(key, algo, digest));
        return s.sign();
    }

    /** True only if {@code sig} is a valid signature of {@code digest} by {@code key}; malformed signatures are false. */
    public static boolean verify(PublicKey key, HashAlgo algo, byte[] digest, byte[] sig) {
        try {
            Signature s = signature(key);
            s.initVerify(key);
            s.update(message(key, algo, digest));
            return s.verify(sig);
        } catch (SignatureException | InvalidKeyException | IllegalArgumentException e) {
            return false;
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private static Signature signature(Key key) throws GeneralSecurityException {
        return switch (key.getAlgorithm()) {
            case "RSA" -> Signature.getInstance("NONEwithRSA");
            case "EC" -> Signature.getInstance("NONEwithECDSA");
            default -> throw new InvalidKeyException(key.getAlgorithm()
                    + " keys cannot make v2 IMA signatures here (RSA and ECDSA only)");
        };
    }

    private static byte[] message(Key key, HashAlgo algo, byte[] digest) {
        return key.getAlgorithm().equals("RSA") ? DigestInfo.encode(algo, digest) : digest;
    }
}
