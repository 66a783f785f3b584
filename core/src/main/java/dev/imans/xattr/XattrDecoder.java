package dev.imans.xattr;

import dev.imans.crypto.HashAlgo;
import java.util.Arrays;
import java.util.Optional;

/**
 * {@link ImaXattr#decode}: sorts every byte string into a record, and for odd ones writes down
 * what the kernel does with them (security/integrity/ima/ima_appraise.c {@code ima_get_hash_algo},
 * {@code xattr_verify}; security/integrity/digsig_asymmetric.c {@code asymmetric_verify};
 * security/integrity/digsig.c {@code integrity_digsig_verify}).
 */
final class XattrDecoder {
    private XattrDecoder() {}

    static ImaXattr decode(byte[] raw) {
        if (raw.length == 0) {
            return new ImaXattr.Malformed(raw, "the value is empty; the kernel reads a zero-length security.ima"
                    + " as no label at all", AuditCause.MISSING_HASH);
        }
        int type = raw[0] & 0xff;
        Optional<XattrType> known = XattrType.byId(type);
        if (known.isEmpty()) {
            return new ImaXattr.Unknown(raw);
        }
        return switch (known.get()) {
            case IMA_XATTR_DIGEST -> digest(raw);
            case EVM_XATTR_HMAC -> hmac(raw);
            case EVM_IMA_XATTR_DIGSIG -> imaSignature(raw);
            case IMA_XATTR_DIGEST_NG -> digestNg(raw);
            case EVM_XATTR_PORTABLE_DIGSIG -> portable(raw);
            case IMA_VERITY_DIGSIG -> verity(raw);
        };
    }

    private static ImaXattr digest(byte[] raw) {
        int n = raw.length - 1;
        if (n == 16) {
            return new ImaXattr.Digest(HashAlgo.MD5, Arrays.copyOfRange(raw, 1, 17), false);
        }
        if (n == 20) {
            boolean zeroTail = raw[17] == 0 && raw[18] == 0 && raw[19] == 0 && raw[20] == 0;
            return zeroTail
                    ? new ImaXattr.Digest(HashAlgo.MD5, Arrays.copyOfRange(raw, 1, 17), true)
                    : new ImaXattr.Digest(HashAlgo.SHA1, Arrays.copyOfRange(raw, 1, 21), false);
        }
        if (n < 16) {
            return new ImaXattr.Malformed(raw, "too short: type 0x01 needs a 16-byte md5 or 20-byte sha1 digest,"
                    + " this value has " + n + " digest byte" + (n == 1 ? "" : "s"), AuditCause.INVALID_HASH);
        }
        return new ImaXattr.Malformed(raw, "type 0x01 with " + n + " digest bytes is neither md5 (16, or 20"
                + " zero-padded) nor sha1 (20); the kernel then hashes with its default algorithm (ima_hash=)"
                + " and compares only the first digest-size bytes" + sizeHint(n), AuditCause.INVALID_HASH);
    }

    private static ImaXattr hmac(byte[] raw) {
        if (raw.length == ImaXattr.EvmHmac.SIZE) {
            return new ImaXattr.EvmHmac(Arrays.copyOfRange(raw, 1, raw.length));
        }
        return new ImaXattr.Malformed(raw, "size mismatch: an EVM HMAC value is exactly 21 bytes, this one is "
                + raw.length + "; in security.ima the kernel reports any type 0x02 as unknown-ima-data",
                AuditCause.UNKNOWN_IMA_DATA);
    }

    private static ImaXattr digestNg(byte[] raw) {
        if (raw.length < 2) {
            return new ImaXattr.Malformed(raw, "too short: only the type byte 0x04, no algorithm byte and no"
                    + " digest", AuditCause.INVALID_HASH);
        }
        int algoByte = raw[1] & 0xff;
        int after = raw.length - 2;
        Optional<HashAlgo> algo = HashAlgo.byId(algoByte);
        if (algo.isEmpty()) {
            return new ImaXattr.Malformed(raw, String.format("unknown algorithm: byte 1 (0x%02x = %d) should be a"
                    + " kernel hash_algo number (0..%d) but is none; the kernel then hashes with its default"
                    + " algorithm (ima_hash=) and compares the %d bytes after byte 1 with that digest",
                    algoByte, algoByte, HashAlgo.values().length - 1, after) + rawDigestHint(raw),
                    AuditCause.INVALID_HASH);
        }
        HashAlgo a = algo.get();
        if (after < a.digestSize()) {
            return new ImaXattr.Malformed(raw, String.format("too short: byte 1 (0x%02x) reads as %s, which needs"
                    + " %d digest bytes, but only %d follow", algoByte, a, a.digestSize(), after)
                    + rawDigestHint(raw), AuditCause.INVALID_HASH);
        }
        if (after > a.digestSize()) {
            return new ImaXattr.Malformed(raw, String.format("size mismatch: %d bytes follow the %s algorithm byte,"
                    + " a %s digest is %d; the kernel compares the first %d and ignores the %d extra",
                    after, a, a, a.digestSize(), a.digestSize(), after - a.digestSize()) + rawDigestHint(raw),
                    AuditCause.INVALID_HASH);
        }
        return new ImaXattr.DigestNg(a, Arrays.copyOfRange(raw, 2, raw.length));
    }

    private static ImaXattr imaSignature(byte[] raw) {
        if (raw.length < 2) {
            return new ImaXattr.Malformed(raw, "too short: only the type byte 0x03, no signature header (the kernel"
                    + " reads the version past the end of the value)", AuditCause.INVALID_SIGNATURE);
        }
        int version = raw[SignatureHeader.OFF_VERSION] & 0xff;
        if (version >= SignatureHeader.VERSION_3) {
            return new ImaXattr.Malformed(raw, "bad signature version " + version + ": type 0x03 carries version 2"
                    + " signatures (version 3 belongs to type 0x06)", AuditCause.INVALID_SIGNATURE_VERSION);
        }
        if (version == 1) {
            return new ImaXattr.Malformed(raw, "signature version 1 (the deprecated RSA-only format, evmctl --rsa):"
                    + " the kernel verifies it only with CONFIG_SIGNATURE keys; imans does not", AuditCause.INVALID_SIGNATURE);
        }
        if (version != SignatureHeader.VERSION_2) {
            return new ImaXattr.Malformed(raw, "bad signature version " + version + ": the kernel knows versions 1"
                    + " and 2 and gives up (-EOPNOTSUPP) without setting a cause", AuditCause.UNKNOWN);
        }
        return signatureV2Body(raw, XattrType.EVM_IMA_XATTR_DIGSIG, AuditCause.INVALID_SIGNATURE);
    }

    private static ImaXattr portable(byte[] raw) {
        if (raw.length < 2 || (raw[SignatureHeader.OFF_VERSION] & 0xff) != SignatureHeader.VERSION_2) {
            return new ImaXattr.Malformed(raw, "type 0x05 (EVM portable signature) without a version 2 header;"
                    + " in security.ima the kernel reports any type 0x05 as unknown-ima-data", AuditCause.UNKNOWN_IMA_DATA);
        }
        return signatureV2Body(raw, XattrType.EVM_XATTR_PORTABLE_DIGSIG, AuditCause.UNKNOWN_IMA_DATA);
    }

    private static ImaXattr verity(byte[] raw) {
        if (raw.length < 2) {
            return new ImaXattr.Malformed(raw, "too short: only the type byte 0x06, no signature header",
                    AuditCause.INVALID_SIGNATURE_VERSION);
        }
        int version = raw[SignatureHeader.OFF_VERSION] & 0xff;
        if (version != SignatureHeader.VERSION_3) {
            return new ImaXattr.Malformed(raw, "bad signature version " + version + ": type 0x06 carries version 3"
                    + " (fs-verity) signatures only", AuditCause.INVALID_SIGNATURE_VERSION);
        }
        return signatureV2Body(raw, XattrType.IMA_VERITY_DIGSIG, AuditCause.INVALID_VERITY_SIGNATURE);
    }

    /** Header checks shared by types 0x03, 0x05 and 0x06, in {@code asymmetric_verify}'s order. */
    private static ImaXattr signatureV2Body(byte[] raw, XattrType type, AuditCause cause) {
        if (raw.length <= SignatureHeader.SIZE) {
            return new ImaXattr.Malformed(raw, "too short: " + raw.length + " bytes, a signature needs the 9-byte"
                    + " header and at least one signature byte (kernel: -EBADMSG)", cause);
        }
        int sigSize = SignatureHeader.sigSize(raw);
        int actual = raw.length - SignatureHeader.SIZE;
        if (sigSize != actual) {
            return new ImaXattr.Malformed(raw, "size mismatch: the header's sig_size says " + sigSize + " bytes, "
                    + actual + " follow the header (kernel: -EBADMSG)", cause);
        }
        int algoByte = raw[SignatureHeader.OFF_HASH_ALGO] & 0xff;
        Optional<HashAlgo> algo = HashAlgo.byId(algoByte);
        if (algo.isEmpty()) {
            return new ImaXattr.Malformed(raw, "unknown algorithm: hash_algo " + algoByte + " is no kernel"
                    + " hash_algo (kernel: -ENOPKG)", cause);
        }
        byte[] sig = Arrays.copyOfRange(raw, SignatureHeader.SIZE, raw.length);
        return switch (type) {
            case EVM_IMA_XATTR_DIGSIG -> new ImaXattr.SignatureV2(algo.get(), SignatureHeader.keyId(raw), sig);
            case EVM_XATTR_PORTABLE_DIGSIG -> new ImaXattr.PortableSignature(algo.get(), SignatureHeader.keyId(raw), sig);
            case IMA_VERITY_DIGSIG -> new ImaXattr.VeritySignature(algo.get(), SignatureHeader.keyId(raw), sig);
            default -> throw new IllegalStateException("not a signature type: " + type);
        };
    }

    /** When the bytes after the type byte are exactly one digest size: it was written without the algorithm byte. */
    private static String rawDigestHint(byte[] raw) {
        int n = raw.length - 1;
        for (HashAlgo a : new HashAlgo[] {HashAlgo.SHA256, HashAlgo.SHA1, HashAlgo.SHA512, HashAlgo.SHA384,
                HashAlgo.SHA224, HashAlgo.MD5}) {
            if (a.digestSize() == n) {
                return String.format(". The %d bytes after the type byte look like a raw %d-byte digest (%s?)"
                        + " written without the algorithm byte: its first byte is read as the algorithm, so the"
                        + " digest cannot match and the kernel reports invalid-hash (write 0x04%02x<digest>"
                        + " for %s)", n, n, a, a.id(), a);
            }
        }
        return "";
    }

    private static String sizeHint(int n) {
        for (HashAlgo a : HashAlgo.values()) {
            if (a.digestSize() == n && a.isSupported() && a.id() > HashAlgo.SHA1.id()) {
                return String.format(" (%d bytes is a %s-sized digest: imans and evmctl write those as 0x04%02x<digest>)",
                        n, a, a.id());
            }
        }
        return "";
    }
}
