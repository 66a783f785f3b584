package dev.imans.crypto;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.Optional;

/**
 * The 32-bit key identifier of a v2 IMA signature header (stored big-endian).
 *
 * <p>The kernel finds the key with {@code request_key("id:%08x")} (security/integrity/
 * digsig_asymmetric.c), a match on the tail of the X.509 key identifier, i.e. the last 4 bytes of
 * the certificate's SubjectKeyIdentifier. evmctl ({@code calc_keyid_v2}, src/libimaevm.c) uses
 * the last 4 bytes of SHA-1 over the subjectPublicKey BIT STRING contents when it has no
 * certificate; for certificates made by OpenSSL the two agree, because OpenSSL's default SKID is
 * that same SHA-1 (RFC 5280 4.2.1.2, method 1).
 */
public record KeyId(int value) {
    private static final String SKID_OID = "2.5.29.14";

    /** Lowercase, 8 digits: the form {@code request_key} and evmctl's verbose output use. */
    public String hex() {
        return String.format("%08x", value);
    }

    /** The big-endian bytes as stored in the signature header. */
    public byte[] bytes() {
        return new byte[] {(byte) (value >>> 24), (byte) (value >>> 16), (byte) (value >>> 8), (byte) value};
    }

    /** Parses evmctl's {@code --keyid} form: up to 8 hex digits, optional {@code 0x}. */
    public static KeyId parse(String text) {
        String s = text.startsWith("0x") || text.startsWith("0X") ? text.substring(2) : text;
        if (s.isEmpty() || s.length() > 8 || !s.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
            throw new IllegalArgumentException("key id \"" + text + "\" is not 1 to 8 hex digits");
        }
        return new KeyId(Integer.parseUnsignedInt(s, 16));
    }

    /** evmctl's {@code calc_keyid_v2}: SHA-1 of the subjectPublicKey bits, bytes 16..19. */
    public static KeyId ofPublicKey(PublicKey key) {
        byte[] spki = key.getEncoded();
        if (spki == null) {
            throw new IllegalArgumentException("public key has no X.509 encoding");
        }
        var seq = Der.readWhole(spki).expect(Der.SEQUENCE, "SubjectPublicKeyInfo").children();
        if (seq.size() != 2) {
            throw new IllegalArgumentException("SubjectPublicKeyInfo has " + seq.size() + " elements, not 2");
        }
        return ofSha1Tail(sha1(Der.bitStringBytes(seq.get(1))));
    }

    /** The last 4 bytes of the certificate's SubjectKeyIdentifier, if it has one of 4 bytes or more. */
    public static Optional<KeyId> ofSubjectKeyIdentifier(X509Certificate cert) {
        byte[] ext = cert.getExtensionValue(SKID_OID);
        if (ext == null) {
            return Optional.empty();
        }
        // getExtensionValue returns the extnValue OCTET STRING, which wraps the KeyIdentifier OCTET STRING.
        byte[] inner = Der.readWhole(ext).expect(Der.OCTET_STRING, "extnValue").contents();
        byte[] skid = Der.readWhole(inner).expect(Der.OCTET_STRING, "SubjectKeyIdentifier").contents();
        if (skid.length < 4) {
            return Optional.empty();
        }
        return Optional.of(ofSha1Tail(skid));
    }

    private static KeyId ofSha1Tail(byte[] b) {
        byte[] t = Arrays.copyOfRange(b, b.length - 4, b.length);
        return new KeyId(((t[0] & 0xff) << 24) | ((t[1] & 0xff) << 16) | ((t[2] & 0xff) << 8) | (t[3] & 0xff));
    }

    private static byte[] sha1(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-1").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-1", e);
        }
    }

    @Override
    public String toString() {
        return hex();
    }
}
