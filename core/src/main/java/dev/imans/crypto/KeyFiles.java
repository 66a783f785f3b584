package dev.imans.crypto;

import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.RSAPublicKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Reads keys and certificates in the forms OpenSSL writes them: X.509 certificates and
 * SubjectPublicKeyInfo in PEM or DER; private keys as PKCS#8 ({@code BEGIN PRIVATE KEY}), PKCS#1
 * ({@code BEGIN RSA PRIVATE KEY}) or SEC1 ({@code BEGIN EC PRIVATE KEY}). The legacy forms are
 * rewrapped as PKCS#8 by hand so the JDK's own key factories can take them.
 *
 * <p>Every failure is an {@link IllegalArgumentException} whose message names the source.
 */
public final class KeyFiles {
    static final String RSA_ENCRYPTION = "1.2.840.113549.1.1.1";
    static final String EC_PUBLIC_KEY = "1.2.840.10045.2.1";

    private KeyFiles() {}

    /** A certificate or public key, PEM or DER, named {@code source} in errors. */
    public static VerificationKey readVerificationKey(byte[] data, String source) {
        try {
            if (Pem.isPem(data)) {
                for (Pem.Block b : Pem.parse(data)) {
                    switch (b.label()) {
                        case "CERTIFICATE", "TRUSTED CERTIFICATE", "X509 CERTIFICATE":
                            return ofCertificate(certificate(b.der()), source);
                        case "PUBLIC KEY":
                            return ofPublicKey(publicKey(b.der()), source);
                        case "RSA PUBLIC KEY":
                            return ofPublicKey(rsaPublicKey(Der.readWhole(b.der()).children()), source);
                        default:
                            // keep looking: a key file may hold other blocks first
                    }
                }
                throw new IllegalArgumentException("no CERTIFICATE or PUBLIC KEY block");
            }
            try {
                return ofCertificate(certificate(data), source);
            } catch (IllegalArgumentException notACert) {
                return ofPublicKey(publicKey(data), source);
            }
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + ": not a usable certificate or public key: "
                    + e.getMessage(), e);
        }
    }

    /** A private key (and a certificate if the same file holds one), named {@code source} in errors. */
    public static SigningKey readSigningKey(byte[] data, String source) {
        try {
            if (!Pem.isPem(data)) {
                return pkcs8(data, Optional.empty(), source);
            }
            List<Pem.Block> blocks = Pem.parse(data);
            Optional<X509Certificate> cert = blocks.stream()
                    .filter(b -> b.label().equals("CERTIFICATE"))
                    .findFirst()
                    .map(b -> certificate(b.der()));
            for (Pem.Block b : blocks) {
                if (b.encrypted() || b.label().equals("ENCRYPTED PRIVATE KEY")) {
                    throw new IllegalArgumentException("the private key is encrypted; imans reads unencrypted"
                            + " keys only (decrypt it with: openssl pkey -in KEY -out PLAIN)");
                }
                switch (b.label()) {
                    case "PRIVATE KEY":
                        return pkcs8(b.der(), cert, source);
                    case "RSA PRIVATE KEY":
                        return pkcs8(wrapPkcs1(b.der()), cert, source);
                    case "EC PRIVATE KEY":
                        return pkcs8(wrapSec1(b.der()), cert, source);
                    default:
                        // certificates, EC PARAMETERS, ...: not the key itself
                }
            }
            throw new IllegalArgumentException("no PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY block");
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + ": not a usable private key: " + e.getMessage(), e);
        }
    }

    public static X509Certificate certificate(byte[] der) {
        try {
            CertificateFactory cf = CertificateFactory.getInstance("X.509");
            return (X509Certificate) cf.generateCertificate(new ByteArrayInputStream(der));
        } catch (CertificateException | ClassCastException e) {
            throw new IllegalArgumentException("not an X.509 certificate (" + e.getMessage() + ")", e);
        }
    }

    private static VerificationKey ofCertificate(X509Certificate cert, String source) {
        return new VerificationKey(cert.getPublicKey(), KeyId.ofPublicKey(cert.getPublicKey()),
                KeyId.ofSubjectKeyIdentifier(cert), source);
    }

    private static VerificationKey ofPublicKey(PublicKey key, String source) {
        return new VerificationKey(key, KeyId.ofPublicKey(key), Optional.empty(), source);
    }

    /** A SubjectPublicKeyInfo, RSA or EC by its algorithm OID. */
    static PublicKey publicKey(byte[] spki) {
        var parts = Der.readWhole(spki).expect(Der.SEQUENCE, "SubjectPublicKeyInfo").children();
        if (parts.size() != 2) {
            throw new IllegalArgumentException("SubjectPublicKeyInfo has " + parts.size() + " elements");
        }
        String alg = algorithmName(parts.get(0));
        try {
            return KeyFactory.getInstance(alg).generatePublic(new X509EncodedKeySpec(spki));
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("bad " + alg + " public key (" + e.getMessage() + ")", e);
        }
    }

    private static PublicKey rsaPublicKey(List<Der.Element> nAndE) {
        try {
            BigInteger n = new BigInteger(nAndE.get(0).expect(Der.INTEGER, "modulus").contents());
            BigInteger e = new BigInteger(nAndE.get(1).expect(Der.INTEGER, "publicExponent").contents());
            return KeyFactory.getInstance("RSA").generatePublic(new RSAPublicKeySpec(n, e));
        } catch (GeneralSecurityException | IndexOutOfBoundsException ex) {
            throw new IllegalArgumentException("bad RSA public key (" + ex.getMessage() + ")", ex);
        }
    }

    /** RSA or EC by the AlgorithmIdentifier's OID; the kernel verifies IMA signatures with no others. */
    private static String algorithmName(Der.Element algorithmIdentifier) {
        var alg = algorithmIdentifier.expect(Der.SEQUENCE, "AlgorithmIdentifier").children();
        byte[] oid = alg.get(0).expect(Der.OID, "algorithm").encoded();
        if (Arrays.equals(oid, Der.oid(RSA_ENCRYPTION))) {
            return "RSA";
        }
        if (Arrays.equals(oid, Der.oid(EC_PUBLIC_KEY))) {
            return "EC";
        }
        throw new IllegalArgumentException("key algorithm is neither RSA nor EC"
                + " (the kernel verifies v2 IMA signatures with RSA or ECDSA keys)");
    }

    private static SigningKey pkcs8(byte[] der, Optional<X509Certificate> cert, String source) {
        var parts = Der.readWhole(der).expect(Der.SEQUENCE, "PrivateKeyInfo").children();
        if (parts.size() < 3) {
            throw new IllegalArgumentException("PrivateKeyInfo has " + parts.size() + " elements");
        }
        String alg = algorithmName(parts.get(1));
        PrivateKey key;
        try {
            key = KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(der));
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("bad " + alg + " private key (" + e.getMessage() + ")", e);
        }
        Optional<PublicKey> pub;
        if (key instanceof RSAPrivateCrtKey rsa) {
            try {
                pub = Optional.of(KeyFactory.getInstance("RSA").generatePublic(
                        new RSAPublicKeySpec(rsa.getModulus(), rsa.getPublicExponent())));
            } catch (GeneralSecurityException e) {
                throw new IllegalArgumentException("RSA public half (" + e.getMessage() + ")", e);
            }
        } else if (alg.equals("EC")) {
            pub = ecPublicFromSec1(parts.get(1), parts.get(2).expect(Der.OCTET_STRING, "privateKey").contents());
        } else {
            pub = Optional.empty();
        }
        if (cert.isPresent() && pub.isEmpty()) {
            pub = Optional.of(cert.get().getPublicKey());
        }
        return new SigningKey(key, pub, cert, source);
    }

    /** The SEC1 structure's optional {@code [1] publicKey}, turned into an SPKI with the PKCS#8 curve. */
    private static Optional<PublicKey> ecPublicFromSec1(Der.Element algorithmIdentifier, byte[] sec1) {
        for (Der.Element e : Der.readWhole(sec1).expect(Der.SEQUENCE, "ECPrivateKey").children()) {
            if (e.tag() == Der.CONTEXT_1) {
                byte[] point = Der.bitStringBytes(Der.readWhole(e.contents()));
                byte[] spki = Der.sequence(algorithmIdentifier.encoded(),
                        Der.bitString(point));
                return Optional.of(publicKey(spki));
            }
        }
        return Optional.empty();
    }

    /** PKCS#1 RSAPrivateKey → PKCS#8 with the rsaEncryption identifier (NULL parameters, as OpenSSL writes). */
    static byte[] wrapPkcs1(byte[] pkcs1) {
        Der.readWhole(pkcs1).expect(Der.SEQUENCE, "RSAPrivateKey");
        return Der.sequence(Der.integer(0), Der.sequence(Der.oid(RSA_ENCRYPTION), Der.nullValue()),
                Der.tlv(Der.OCTET_STRING, pkcs1));
    }

    /** SEC1 ECPrivateKey → PKCS#8, moving its {@code [0]} named curve into the AlgorithmIdentifier. */
    static byte[] wrapSec1(byte[] sec1) {
        byte[] curve = null;
        for (Der.Element e : Der.readWhole(sec1).expect(Der.SEQUENCE, "ECPrivateKey").children()) {
            if (e.tag() == Der.CONTEXT_0) {
                Der.Element param = Der.readWhole(e.contents());
                if (param.tag() != Der.OID) {
                    throw new IllegalArgumentException("EC key with explicit curve parameters; only named curves are supported");
                }
                curve = e.contents();
            }
        }
        if (curve == null) {
            throw new IllegalArgumentException("EC private key does not name its curve");
        }
        return Der.sequence(Der.integer(0), Der.sequence(Der.oid(EC_PUBLIC_KEY), curve),
                Der.tlv(Der.OCTET_STRING, sec1));
    }


    /** Every key in a comma/space/tab separated list, as evmctl's {@code --key a,b} takes them. */
    public static List<String> splitKeyList(String list) {
        List<String> out = new ArrayList<>();
        for (String s : list.split("[, \t]+")) {
            if (!s.isEmpty()) {
                out.add(s);
            }
        }
        return out;
    }
}
