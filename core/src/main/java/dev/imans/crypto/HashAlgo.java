package dev.imans.crypto;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Optional;

/**
 * The kernel's hash algorithms, in the order of {@code enum hash_algo}
 * (include/uapi/linux/hash_info.h): the ordinal is the wire value used in {@code security.ima}
 * (type 0x04 and the signature header) and in the {@code appraise_algos=} bitmask.
 *
 * <p>{@link #kernelName} is {@code hash_algo_name[]} (crypto/hash_info.c), which policies,
 * {@code d-ng} fields and evmctl's {@code -a} use. {@link #jdkName} is null where this JDK has no
 * implementation, which {@link #isSupported()} reports; rmd160 is computed by {@link Ripemd160}.
 */
public enum HashAlgo {
    MD4("md4", 16, null),
    MD5("md5", 16, "MD5"),
    SHA1("sha1", 20, "SHA-1"),
    RMD160("rmd160", 20, "RIPEMD160"),
    SHA256("sha256", 32, "SHA-256"),
    SHA384("sha384", 48, "SHA-384"),
    SHA512("sha512", 64, "SHA-512"),
    SHA224("sha224", 28, "SHA-224"),
    RMD128("rmd128", 16, null),
    RMD256("rmd256", 32, null),
    RMD320("rmd320", 40, null),
    WP256("wp256", 32, null),
    WP384("wp384", 48, null),
    WP512("wp512", 64, null),
    TGR128("tgr128", 16, null),
    TGR160("tgr160", 20, null),
    TGR192("tgr192", 24, null),
    SM3_256("sm3", 32, null),
    STREEBOG_256("streebog256", 32, null),
    STREEBOG_512("streebog512", 64, null),
    SHA3_256("sha3-256", 32, "SHA3-256"),
    SHA3_384("sha3-384", 48, "SHA3-384"),
    SHA3_512("sha3-512", 64, "SHA3-512");

    private static final HashAlgo[] BY_ID = values();

    private final String kernelName;
    private final int digestSize;
    private final String jdkName;

    HashAlgo(String kernelName, int digestSize, String jdkName) {
        this.kernelName = kernelName;
        this.digestSize = digestSize;
        this.jdkName = jdkName;
    }

    /** The kernel's wire number ({@code HASH_ALGO_*}). */
    public int id() {
        return ordinal();
    }

    public String kernelName() {
        return kernelName;
    }

    public int digestSize() {
        return digestSize;
    }

    public boolean isSupported() {
        return jdkName != null;
    }

    /** A new digest; throws {@link UnsupportedHashException} naming the algorithm when this JDK lacks it. */
    public MessageDigest newDigest() {
        if (jdkName == null) {
            throw new UnsupportedHashException(this);
        }
        if (this == RMD160) {
            // The JDK has none; the kernel has, so labels written with it must be compared.
            return new Ripemd160();
        }
        try {
            return MessageDigest.getInstance(jdkName);
        } catch (NoSuchAlgorithmException e) {
            throw new UnsupportedHashException(this);
        }
    }

    public static Optional<HashAlgo> byId(int id) {
        return id >= 0 && id < BY_ID.length ? Optional.of(BY_ID[id]) : Optional.empty();
    }

    /**
     * By the kernel's name, as policies and evmctl write it. The kernel compares names exactly;
     * older kernels called sm3 {@code sm3-256}, and evmctl also accepts OpenSSL's GOST names.
     */
    public static Optional<HashAlgo> byName(String name) {
        for (HashAlgo a : BY_ID) {
            if (a.kernelName.equals(name)) {
                return Optional.of(a);
            }
        }
        return switch (name) {
            case "sm3-256" -> Optional.of(SM3_256);
            case "md_gost12_256" -> Optional.of(STREEBOG_256);
            case "md_gost12_512" -> Optional.of(STREEBOG_512);
            default -> Optional.empty();
        };
    }

    @Override
    public String toString() {
        return kernelName;
    }

    /** Thrown when an algorithm the kernel knows has no implementation in this JDK. */
    public static final class UnsupportedHashException extends IllegalArgumentException {
        private final HashAlgo algo;

        public UnsupportedHashException(HashAlgo algo) {
            super("hash algorithm " + algo.kernelName + " (kernel id " + algo.id()
                    + ") is not supported: this JDK has no implementation of it");
            this.algo = algo;
        }

        public HashAlgo algo() {
            return algo;
        }
    }
}
