package dev.imans.appraise;

import dev.imans.crypto.HashAlgo;
import dev.imans.policy.KernelProfile;
import dev.imans.xattr.ImaXattr;
import dev.imans.xattr.XattrType;
import java.util.Optional;

/**
 * What {@code ima_appraise=fix} writes ({@code ima_fix_xattr}, security/integrity/ima/ima_appraise.c):
 * a fresh hash with the algorithm the kernel collected the file with, in the 0x01 form up to sha1
 * and the 0x04 form above. A value whose type byte is 0x03 (a signature) is never replaced, even a
 * broken one; every other value, 0x06 included, is.
 */
public final class FixMode {
    private FixMode() {}

    /** True if fix mode may overwrite this value (or the lack of one). */
    public static boolean mayReplace(Optional<ImaXattr> current) {
        byte[] raw = current.map(ImaXattr::encode).orElse(new byte[0]);
        return raw.length == 0 || (raw[0] & 0xff) != XattrType.EVM_IMA_XATTR_DIGSIG.id();
    }

    /**
     * Whether the value is a signature that sets {@code IMA_DIGSIG}: type 0x03 or 0x06, whatever
     * follows the type byte (xattr_verify sets the bit before it looks further).
     */
    public static boolean isSignature(Optional<ImaXattr> current) {
        // By type, not by encoding: the decider asks at every open it may ignore-mark.
        if (current.isEmpty()) {
            return false;
        }
        return switch (current.get()) {
            case ImaXattr.SignatureV2 s -> true;
            case ImaXattr.VeritySignature s -> true;
            case ImaXattr.Malformed m -> signatureType(m.raw());
            case ImaXattr.Unknown u -> signatureType(u.raw());
            default -> false;
        };
    }

    private static boolean signatureType(byte[] raw) {
        return raw.length > 0 && ((raw[0] & 0xff) == XattrType.EVM_IMA_XATTR_DIGSIG.id()
                || (raw[0] & 0xff) == XattrType.IMA_VERITY_DIGSIG.id());
    }

    /** The algorithm fix mode hashes with: {@code ima_get_hash_algo} of the current value. */
    public static HashAlgo algorithm(Optional<ImaXattr> current, HashAlgo defaultAlgo) {
        return ImaXattr.kernelHashAlgo(current.map(ImaXattr::encode).orElse(new byte[0]), defaultAlgo,
                KernelProfile.defaults().hashAlgoNames());
    }

    /** The replacement value for {@code digest} (computed with {@link #algorithm}), or empty for a signature. */
    public static Optional<ImaXattr> replacement(Optional<ImaXattr> current, HashAlgo algo, byte[] digest) {
        return mayReplace(current) ? Optional.of(ImaXattr.hash(algo, digest)) : Optional.empty();
    }
}
