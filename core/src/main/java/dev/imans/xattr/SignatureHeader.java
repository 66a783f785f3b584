package dev.imans.xattr;

import dev.imans.crypto.KeyId;

/**
 * The packed signature header that follows the type byte of signature values
 * ({@code struct signature_v2_hdr}, security/integrity/integrity.h; the kernel's struct includes
 * the type byte, evmctl's in src/imaevm.h starts after it):
 *
 * <pre>
 *  offset  0      1        2          3 .. 6          7 .. 8          9 ..
 *        +------+--------+----------+---------------+---------------+-------------------+
 *        | type | version| hash_algo| keyid (BE u32)| sig_size(BE16)| sig[sig_size]     |
 *        +------+--------+----------+---------------+---------------+-------------------+
 * </pre>
 *
 * The kernel requires {@code len > 9} and {@code sig_size == len - 9} ({@code asymmetric_verify}, else
 * -EBADMSG) and {@code hash_algo < HASH_ALGO__LAST} (else -ENOPKG).
 */
public final class SignatureHeader {
    public static final int SIZE = 9;
    public static final int OFF_VERSION = 1;
    public static final int OFF_HASH_ALGO = 2;
    public static final int OFF_KEYID = 3;
    public static final int OFF_SIG_SIZE = 7;
    /** {@code DIGSIG_VERSION_2}: file digest signed directly (types 0x03, 0x05). */
    public static final int VERSION_2 = 2;
    /** {@code DIGSIG_VERSION_3}: hash of {@code ima_file_id} signed (type 0x06, fs-verity). */
    public static final int VERSION_3 = 3;

    private SignatureHeader() {}

    static byte[] encode(XattrType type, int version, int hashAlgo, KeyId keyId, byte[] sig) {
        if (sig.length == 0 || sig.length > 0xffff) {
            throw new IllegalArgumentException("signature of " + sig.length + " bytes does not fit sig_size");
        }
        byte[] out = new byte[SIZE + sig.length];
        out[0] = (byte) type.id();
        out[OFF_VERSION] = (byte) version;
        out[OFF_HASH_ALGO] = (byte) hashAlgo;
        System.arraycopy(keyId.bytes(), 0, out, OFF_KEYID, 4);
        out[OFF_SIG_SIZE] = (byte) (sig.length >>> 8);
        out[OFF_SIG_SIZE + 1] = (byte) sig.length;
        System.arraycopy(sig, 0, out, SIZE, sig.length);
        return out;
    }

    static KeyId keyId(byte[] raw) {
        return new KeyId(((raw[OFF_KEYID] & 0xff) << 24) | ((raw[OFF_KEYID + 1] & 0xff) << 16)
                | ((raw[OFF_KEYID + 2] & 0xff) << 8) | (raw[OFF_KEYID + 3] & 0xff));
    }

    static int sigSize(byte[] raw) {
        return ((raw[OFF_SIG_SIZE] & 0xff) << 8) | (raw[OFF_SIG_SIZE + 1] & 0xff);
    }
}
