package dev.imans.xattr;

import dev.imans.crypto.HashAlgo;
import dev.imans.crypto.Hex;
import dev.imans.crypto.KeyId;
import java.util.Arrays;
import java.util.Optional;

/**
 * A decoded {@code security.ima} value: one record per type byte of {@link XattrType}, plus
 * {@link Malformed} (a known type whose bytes the kernel cannot use as written) and
 * {@link Unknown} (a type byte the kernel does not know).
 *
 * <p>{@link #decode} never throws. {@link #encode} gives back the exact bytes that were decoded,
 * and the factories ({@link #hash}, {@link SignatureV2#of}) write what the kernel's fix mode and
 * evmctl write. Records holding arrays compare by identity: compare {@link #encode()} results.
 */
public sealed interface ImaXattr {

    /** The value's bytes, exactly as stored in the attribute. */
    byte[] encode();

    /** One line for people: type, algorithm, digest or key id. */
    String describe();

    /** The type byte when it is a known one. */
    default Optional<XattrType> type() {
        byte[] raw = encode();
        return raw.length == 0 ? Optional.empty() : XattrType.byId(raw[0] & 0xff);
    }

    /** Decodes any byte string; odd values become {@link Malformed} or {@link Unknown} with the reason. */
    static ImaXattr decode(byte[] value) {
        return XattrDecoder.decode(value.clone());
    }

    /**
     * The value the kernel's fix mode ({@code ima_fix_xattr}) and {@code evmctl ima_hash} write for a
     * digest: algorithms up to sha1 (md4, md5, sha1) as {@code 0x01 || digest}, the others as
     * {@code 0x04 || algo || digest}.
     */
    static ImaXattr hash(HashAlgo algo, byte[] digest) {
        if (digest.length != algo.digestSize()) {
            throw new IllegalArgumentException(algo + " digest must be " + algo.digestSize() + " bytes, not "
                    + digest.length);
        }
        return algo.id() <= HashAlgo.SHA1.id()
                ? new Digest(algo, digest.clone(), false)
                : new DigestNg(algo, digest.clone());
    }

    /**
     * {@code 0x01 || digest}: md5 (16 bytes, or 20 with four zero bytes as old kernels padded it) or
     * sha1 (20 bytes). The kernel tells them apart by length alone ({@code ima_get_hash_algo}).
     */
    record Digest(HashAlgo algo, byte[] digest, boolean legacyPadded) implements ImaXattr {
        @Override
        public byte[] encode() {
            byte[] out = new byte[1 + (legacyPadded ? 20 : digest.length)];
            out[0] = (byte) XattrType.IMA_XATTR_DIGEST.id();
            System.arraycopy(digest, 0, out, 1, digest.length);
            return out;
        }

        @Override
        public String describe() {
            return "0x01 digest " + algo + ":" + Hex.of(digest) + (legacyPadded ? " (md5 padded to 20 bytes)" : "");
        }
    }

    /** {@code 0x02 || 20-byte HMAC-SHA1}: an EVM value, meaningless in {@code security.ima}. */
    record EvmHmac(byte[] hmac) implements ImaXattr {
        public static final int SIZE = 21;

        @Override
        public byte[] encode() {
            byte[] out = new byte[SIZE];
            out[0] = (byte) XattrType.EVM_XATTR_HMAC.id();
            System.arraycopy(hmac, 0, out, 1, hmac.length);
            return out;
        }

        @Override
        public String describe() {
            return "0x02 EVM HMAC " + Hex.of(hmac);
        }
    }

    /** {@code 0x03}, version 2: a signature of the file digest made with {@code algo} (evmctl ima_sign). */
    record SignatureV2(HashAlgo algo, KeyId keyId, byte[] signature) implements ImaXattr {
        public static SignatureV2 of(HashAlgo algo, KeyId keyId, byte[] signature) {
            return new SignatureV2(algo, keyId, signature.clone());
        }

        @Override
        public byte[] encode() {
            return SignatureHeader.encode(XattrType.EVM_IMA_XATTR_DIGSIG, SignatureHeader.VERSION_2, algo.id(),
                    keyId, signature);
        }

        @Override
        public String describe() {
            return "0x03 signature v2 " + algo + " keyid " + keyId.hex() + ", " + signature.length + " signature bytes";
        }
    }

    /** {@code 0x04 || algo || digest}: any algorithm, the form for everything above sha1. */
    record DigestNg(HashAlgo algo, byte[] digest) implements ImaXattr {
        @Override
        public byte[] encode() {
            byte[] out = new byte[2 + digest.length];
            out[0] = (byte) XattrType.IMA_XATTR_DIGEST_NG.id();
            out[1] = (byte) algo.id();
            System.arraycopy(digest, 0, out, 2, digest.length);
            return out;
        }

        @Override
        public String describe() {
            return "0x04 digest " + algo + ":" + Hex.of(digest);
        }
    }

    /** {@code 0x05}, version 2: an EVM portable signature; it belongs in {@code security.evm}. */
    record PortableSignature(HashAlgo algo, KeyId keyId, byte[] signature) implements ImaXattr {
        @Override
        public byte[] encode() {
            return SignatureHeader.encode(XattrType.EVM_XATTR_PORTABLE_DIGSIG, SignatureHeader.VERSION_2,
                    algo.id(), keyId, signature);
        }

        @Override
        public String describe() {
            return "0x05 EVM portable signature " + algo + " keyid " + keyId.hex();
        }
    }

    /** {@code 0x06}, version 3: a signature over the hash of the fs-verity file id. */
    record VeritySignature(HashAlgo algo, KeyId keyId, byte[] signature) implements ImaXattr {
        @Override
        public byte[] encode() {
            return SignatureHeader.encode(XattrType.IMA_VERITY_DIGSIG, SignatureHeader.VERSION_3, algo.id(),
                    keyId, signature);
        }

        @Override
        public String describe() {
            return "0x06 fs-verity signature v3 " + algo + " keyid " + keyId.hex();
        }
    }

    /**
     * A value with a known type byte that the kernel cannot use as written: {@code reason} says what
     * is wrong and what the kernel does with it; {@code cause} is the audit cause the kernel reports
     * when it rejects it. A few such values can still pass the kernel's comparison (it ignores
     * trailing bytes, and falls back to its default algorithm for an unknown algorithm byte);
     * appraisal applies the kernel's rule to the raw bytes.
     */
    record Malformed(byte[] raw, String reason, AuditCause cause) implements ImaXattr {
        @Override
        public byte[] encode() {
            return raw.clone();
        }

        @Override
        public String describe() {
            return "malformed" + type().map(t -> " " + t.describe()).orElse("") + ": " + reason;
        }
    }

    /** A type byte outside {@code enum evm_ima_xattr_type}: the kernel reports {@code unknown-ima-data}. */
    record Unknown(byte[] raw) implements ImaXattr {
        @Override
        public byte[] encode() {
            return raw.clone();
        }

        @Override
        public String describe() {
            return String.format("unknown type byte 0x%02x: the kernel knows 0x01..0x06 and reports unknown-ima-data",
                    raw[0] & 0xff);
        }
    }

    /**
     * The algorithm the kernel hashes the file with for this value, {@code ima_get_hash_algo}
     * (security/integrity/ima/ima_appraise.c): the signature's or digest's algorithm byte when it is
     * usable, md5/sha1 by length for 0x01, otherwise {@code defaultAlgo} (the {@code ima_hash=} algorithm).
     */
    static HashAlgo kernelHashAlgo(byte[] raw, HashAlgo defaultAlgo) {
        return kernelHashAlgo(raw, defaultAlgo, java.util.EnumSet.allOf(HashAlgo.class));
    }

    /**
     * As {@link #kernelHashAlgo(byte[], HashAlgo)} for a kernel whose {@code enum hash_algo} holds
     * {@code kernelAlgos}: an algorithm byte at or past its {@code HASH_ALGO__LAST} is no algorithm
     * there, and the kernel falls back to {@code defaultAlgo} (Linux 6.1 ends at streebog512, so the
     * sha3 bytes 20..22 fall back).
     */
    static HashAlgo kernelHashAlgo(byte[] raw, HashAlgo defaultAlgo, java.util.Set<HashAlgo> kernelAlgos) {
        int len = raw.length;
        if (len < 2) {
            return defaultAlgo;
        }
        int type = raw[0] & 0xff;
        if (type == XattrType.IMA_VERITY_DIGSIG.id() || type == XattrType.EVM_IMA_XATTR_DIGSIG.id()) {
            int wanted = type == XattrType.IMA_VERITY_DIGSIG.id() ? SignatureHeader.VERSION_3 : SignatureHeader.VERSION_2;
            if ((raw[SignatureHeader.OFF_VERSION] & 0xff) != wanted || len <= SignatureHeader.SIZE) {
                return defaultAlgo;
            }
            return HashAlgo.byId(raw[SignatureHeader.OFF_HASH_ALGO] & 0xff).filter(kernelAlgos::contains)
                    .orElse(defaultAlgo);
        }
        if (type == XattrType.IMA_XATTR_DIGEST_NG.id()) {
            return HashAlgo.byId(raw[1] & 0xff).filter(kernelAlgos::contains).orElse(defaultAlgo);
        }
        if (type == XattrType.IMA_XATTR_DIGEST.id()) {
            if (len == 21) {
                return raw[17] == 0 && raw[18] == 0 && raw[19] == 0 && raw[20] == 0 ? HashAlgo.MD5 : HashAlgo.SHA1;
            }
            if (len == 17) {
                return HashAlgo.MD5;
            }
        }
        return defaultAlgo;
    }

    /** For messages: the raw value as {@code getfattr -e hex} prints it. */
    static String hex(byte[] raw) {
        return "0x" + Hex.of(raw);
    }

    /** Value equality of two decoded values, by their bytes. */
    static boolean sameValue(ImaXattr a, ImaXattr b) {
        return Arrays.equals(a.encode(), b.encode());
    }
}
