package dev.imans.crypto;

import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;

/**
 * PKCS#1 v1.5 {@code DigestInfo}: what an RSA v2 IMA signature pads and signs. The kernel's
 * {@code pkcs1pad} template (crypto/rsa-pkcs1pad.c, {@code rsa_digest_info_*}) and OpenSSL's
 * {@code RSA_sign} both write the algorithm with NULL parameters, SHA-3 included.
 */
public final class DigestInfo {
    /** Digest OIDs (RFC 8017 appendix B.1, NIST CSOR for SHA-2 and SHA-3). */
    private static final Map<HashAlgo, String> OIDS = new EnumMap<>(HashAlgo.class);

    static {
        OIDS.put(HashAlgo.MD5, "1.2.840.113549.2.5");
        OIDS.put(HashAlgo.SHA1, "1.3.14.3.2.26");
        // TeleTrusT's ripemd160, the prefix the kernel's rsa-pkcs1pad uses for rmd160.
        OIDS.put(HashAlgo.RMD160, "1.3.36.3.2.1");
        OIDS.put(HashAlgo.SHA224, "2.16.840.1.101.3.4.2.4");
        OIDS.put(HashAlgo.SHA256, "2.16.840.1.101.3.4.2.1");
        OIDS.put(HashAlgo.SHA384, "2.16.840.1.101.3.4.2.2");
        OIDS.put(HashAlgo.SHA512, "2.16.840.1.101.3.4.2.3");
        OIDS.put(HashAlgo.SHA3_256, "2.16.840.1.101.3.4.2.8");
        OIDS.put(HashAlgo.SHA3_384, "2.16.840.1.101.3.4.2.9");
        OIDS.put(HashAlgo.SHA3_512, "2.16.840.1.101.3.4.2.10");
    }

    private DigestInfo() {}

    public static Optional<String> oid(HashAlgo algo) {
        return Optional.ofNullable(OIDS.get(algo));
    }

    /** {@code SEQUENCE { SEQUENCE { oid, NULL }, OCTET STRING digest }}. */
    public static byte[] encode(HashAlgo algo, byte[] digest) {
        String oid = OIDS.get(algo);
        if (oid == null) {
            throw new IllegalArgumentException("no PKCS#1 DigestInfo is defined here for " + algo.kernelName());
        }
        if (digest.length != algo.digestSize()) {
            throw new IllegalArgumentException(algo.kernelName() + " digest must be " + algo.digestSize()
                    + " bytes, not " + digest.length);
        }
        return Der.sequence(Der.sequence(Der.oid(oid), Der.nullValue()), Der.tlv(Der.OCTET_STRING, digest));
    }
}
