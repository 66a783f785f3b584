package dev.imans.crypto;

import java.security.GeneralSecurityException;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.List;
import javax.security.auth.x500.X500Principal;

/**
 * An X.509 certificate admitted to a keyring that verifies IMA signatures, as {@code evmctl import}
 * or {@code keyctl padd asymmetric "" %keyring:.ima} would add it.
 *
 * <p>What is refused, and why:
 * <ul>
 * <li>anything that is not an X.509 certificate (DER, or PEM {@code CERTIFICATE} blocks), as the
 *     kernel's x509 key parser refuses it;</li>
 * <li>a key that is neither RSA nor EC: the kernel verifies v2 signatures with RSA and ECDSA only;</li>
 * <li>a self-signed certificate whose own signature does not verify ({@code x509_check_for_self_signed}
 *     answers EKEYREJECTED);</li>
 * <li>a certificate whose keyUsage extension leaves out digitalSignature, or grants keyCertSign: the
 *     {@code .ima} keyring's restriction ({@code restrict_link_by_digsig}, crypto/asymmetric_keys/restrict.c,
 *     Linux 6.4 and later) refuses both. A certificate without keyUsage is taken, as Linux before 6.4
 *     takes it; the restriction's other demand, a signature by a built-in trusted key, has no
 *     counterpart here (whoever may write the keys file is the trust root);</li>
 * <li>a certificate outside its validity period at admission. The kernel stopped checking dates in
 *     2015; imans checks them when a key is added, never later.</li>
 * </ul>
 */
public record ImaCertificate(byte[] der, VerificationKey key, String subject, String algorithm) {
    private static final String SECP192R1 = "1.2.840.10045.3.1.1";
    private static final String SECP256R1 = "1.2.840.10045.3.1.7";
    private static final String SECP384R1 = "1.3.132.0.34";
    private static final String SECP521R1 = "1.3.132.0.35";

    public ImaCertificate {
        der = der.clone();
    }

    @Override
    public byte[] der() {
        return der.clone();
    }

    public KeyId keyId() {
        return key.keyId();
    }

    /** {@code <key id> <subject> <algorithm>}: the line a keys file lists for this key. */
    public String line() {
        return keyId().hex() + " " + subject + " " + algorithm;
    }

    /** Whether {@code other} is the same certificate (a second add of it changes nothing). */
    public boolean sameAs(ImaCertificate other) {
        return Arrays.equals(der, other.der);
    }

    /**
     * Every certificate in {@code data}: one DER certificate, DER certificates back to back, or PEM text
     * with one or more {@code CERTIFICATE} blocks; each checked as the class says at {@code now}.
     *
     * @throws IllegalArgumentException naming {@code source} and the reason, if any of them is refused
     */
    public static List<ImaCertificate> admitAll(byte[] data, String source, Instant now) {
        List<byte[]> ders = split(data, source);
        List<ImaCertificate> out = new ArrayList<>();
        for (int i = 0; i < ders.size(); i++) {
            String name = ders.size() == 1 ? source : source + " (certificate " + (i + 1) + ")";
            out.add(admit(ders.get(i), name, now));
        }
        return out;
    }

    /** As {@link #admitAll}, for a certificate that was admitted before: the dates are not checked again. */
    public static ImaCertificate restore(byte[] der, String source) {
        return check(der, source, null);
    }

    /** One DER certificate, checked at {@code now}. */
    public static ImaCertificate admit(byte[] der, String source, Instant now) {
        return check(der, source, now);
    }

    private static ImaCertificate check(byte[] der, String source, Instant now) {
        X509Certificate cert;
        try {
            // The JDK's parser takes BER and trailing bytes; the kernel's takes one exact DER element.
            Der.readWhole(der).expect(Der.SEQUENCE, "Certificate");
            cert = KeyFiles.certificate(der);
        } catch (IllegalArgumentException e) {
            throw refused(source, "not an X.509 certificate: " + e.getMessage());
        }
        PublicKey pub = cert.getPublicKey();
        String algorithm = switch (pub.getAlgorithm()) {
            case "RSA" -> "rsa";
            case "EC" -> ecName(pub);
            default -> throw refused(source, "a " + pub.getAlgorithm() + " key; the kernel verifies v2 IMA"
                    + " signatures with RSA or ECDSA keys only");
        };
        if (now != null) {
            try {
                cert.checkValidity(Date.from(now));
            } catch (CertificateExpiredException e) {
                throw refused(source, "expired on " + cert.getNotAfter().toInstant());
            } catch (CertificateNotYetValidException e) {
                throw refused(source, "not valid before " + cert.getNotBefore().toInstant());
            }
        }
        boolean[] usage = cert.getKeyUsage();
        if (usage != null && (usage.length == 0 || !usage[0])) {
            throw refused(source, "its keyUsage extension does not allow digitalSignature");
        }
        if (usage != null && usage.length > 5 && usage[5]) {
            throw refused(source, "its keyUsage extension allows keyCertSign (a CA key, which the .ima keyring"
                    + " refuses)");
        }
        if (cert.getSubjectX500Principal().equals(cert.getIssuerX500Principal())) {
            try {
                cert.verify(pub);
            } catch (NoSuchAlgorithmException e) {
                // As the kernel with an unsupported signature algorithm: the key is still usable.
            } catch (GeneralSecurityException e) {
                throw refused(source, "self-signed, but its signature does not verify (" + e.getMessage() + ")");
            }
        }
        VerificationKey key = new VerificationKey(pub, KeyId.ofPublicKey(pub), KeyId.ofSubjectKeyIdentifier(cert),
                source);
        return new ImaCertificate(der, key, printable(cert.getSubjectX500Principal().getName(X500Principal.RFC2253)),
                algorithm);
    }

    /** The kernel's {@code pkey_algo} name of an EC key, by its named curve. */
    private static String ecName(PublicKey pub) {
        var spki = Der.readWhole(pub.getEncoded()).children();
        var alg = spki.get(0).children();
        if (alg.size() == 2 && alg.get(1).tag() == Der.OID) {
            byte[] curve = alg.get(1).encoded();
            for (String[] c : new String[][] {{SECP192R1, "p192"}, {SECP256R1, "p256"}, {SECP384R1, "p384"},
                {SECP521R1, "p521"}}) {
                if (Arrays.equals(curve, Der.oid(c[0]))) {
                    return "ecdsa-nist-" + c[1];
                }
            }
        }
        return "ecdsa";
    }

    /** The DER certificates of {@code data}, PEM or DER, without checking them. */
    static List<byte[]> split(byte[] data, String source) {
        List<byte[]> out = new ArrayList<>();
        if (Pem.isPem(data)) {
            List<Pem.Block> blocks;
            try {
                blocks = Pem.parse(data);
            } catch (IllegalArgumentException e) {
                throw refused(source, "bad PEM: " + e.getMessage());
            }
            for (Pem.Block b : blocks) {
                switch (b.label()) {
                    case "CERTIFICATE", "X509 CERTIFICATE" -> out.add(b.der());
                    default -> throw refused(source, "a PEM " + b.label() + " block; only CERTIFICATE blocks"
                            + " (X.509 certificates) are keys here");
                }
            }
            if (out.isEmpty()) {
                throw refused(source, "no PEM CERTIFICATE block");
            }
            return out;
        }
        int p = 0;
        while (p < data.length) {
            if ((data[p] & 0xff) != Der.SEQUENCE) {
                throw refused(source, "neither PEM nor a DER X.509 certificate");
            }
            Der.Element e;
            try {
                e = Der.read(data, p, data.length);
            } catch (IllegalArgumentException ex) {
                throw refused(source, "not a whole DER X.509 certificate (" + ex.getMessage() + ")");
            }
            out.add(e.encoded());
            p = e.end();
        }
        if (out.isEmpty()) {
            throw refused(source, "empty");
        }
        return out;
    }

    private static String printable(String s) {
        StringBuilder b = new StringBuilder(s.length());
        s.codePoints().forEach(c -> b.appendCodePoint(c < 0x20 || c == 0x7f ? '?' : c));
        return b.toString();
    }

    private static IllegalArgumentException refused(String source, String why) {
        return new IllegalArgumentException(source + ": " + why);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ImaCertificate c && Arrays.equals(der, c.der);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(der);
    }

    @Override
    public String toString() {
        return line();
    }
}
