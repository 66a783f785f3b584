package dev.imans.crypto;

import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.util.Optional;

/**
 * A private key loaded from an OpenSSL key file, with its public half when the file carries it
 * (RSA always does; SEC1 EC keys do when OpenSSL wrote the optional publicKey) and a certificate
 * found in the same file.
 */
public record SigningKey(PrivateKey privateKey, Optional<PublicKey> publicKey,
        Optional<X509Certificate> certificate, String source) {

    /**
     * The key id evmctl's {@code sign_hash_v2} puts in the header when no {@code --keyid} is given:
     * the SKID of a certificate in the key file, else {@code calc_keyid_v2} of the public key.
     *
     * @throws IllegalArgumentException when neither is available (an EC key file without its public key)
     */
    public KeyId defaultKeyId() {
        if (certificate.isPresent()) {
            Optional<KeyId> skid = KeyId.ofSubjectKeyIdentifier(certificate.get());
            if (skid.isPresent()) {
                return skid.get();
            }
        }
        return KeyId.ofPublicKey(publicKey.orElseThrow(() -> new IllegalArgumentException(source
                + ": the key file does not carry the public key, so its key id cannot be computed;"
                + " give --keyid or --cert")));
    }
}
