package dev.imans.crypto;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Against values {@code evmctl ima_sign} (1.4, OpenSSL 3.0) wrote for "hello\n". */
class DigestSignatureTest {
    @ParameterizedTest
    @ValueSource(strings = {"sha1", "sha256", "sha512"})
    void rsaSignaturesAreByteIdenticalToEvmctl(String name) throws Exception {
        HashAlgo algo = HashAlgo.byName(name).orElseThrow();
        byte[] evmctl = Hex.parse(Fixtures.text("evmctl-rsa-" + name + ".hex"));
        byte[] digest = FileDigester.digest(algo, Fixtures.hello());
        byte[] ours = DigestSignature.sign(Fixtures.signingKey("rsa-pkcs1.pem").privateKey(), algo, digest);
        assertThat(Arrays.copyOfRange(evmctl, 9, evmctl.length)).isEqualTo(ours);
        assertThat(DigestSignature.verify(Fixtures.verificationKey("rsa-cert.der").publicKey(), algo, digest, ours)).isTrue();
    }

    @Test
    void ecdsaSignaturesVerifyBothWays() throws Exception {
        byte[] evmctl = Hex.parse(Fixtures.text("evmctl-ec-sha256.hex"));
        byte[] digest = FileDigester.digest(HashAlgo.SHA256, Fixtures.hello());
        var pub = Fixtures.verificationKey("ec-cert.pem").publicKey();
        assertThat(DigestSignature.verify(pub, HashAlgo.SHA256, digest, Arrays.copyOfRange(evmctl, 9, evmctl.length))).isTrue();
        byte[] ours = DigestSignature.sign(Fixtures.signingKey("ec-pkcs8.pem").privateKey(), HashAlgo.SHA256, digest);
        assertThat(ours[0]).as("X9.62 DER SEQUENCE").isEqualTo((byte) 0x30);
        assertThat(DigestSignature.verify(pub, HashAlgo.SHA256, digest, ours)).isTrue();
    }

    @Test
    void wrongDigestWrongKeyAndGarbageAreFalseNotExceptions() throws Exception {
        byte[] digest = FileDigester.digest(HashAlgo.SHA256, Fixtures.hello());
        byte[] sig = DigestSignature.sign(Fixtures.signingKey("rsa-pkcs8.pem").privateKey(), HashAlgo.SHA256, digest);
        byte[] other = digest.clone();
        other[0] ^= 1;
        var rsa = Fixtures.verificationKey("rsa-cert.pem").publicKey();
        var ec = Fixtures.verificationKey("ec-cert.pem").publicKey();
        assertThat(DigestSignature.verify(rsa, HashAlgo.SHA256, other, sig)).isFalse();
        assertThat(DigestSignature.verify(rsa, HashAlgo.SHA512, digest, sig)).isFalse();
        assertThat(DigestSignature.verify(ec, HashAlgo.SHA256, digest, sig)).isFalse();
        assertThat(DigestSignature.verify(rsa, HashAlgo.SHA256, digest, new byte[] {1, 2, 3})).isFalse();
    }

    @Test
    void keyringFindsKeysByEitherId() {
        Keyring ring = Keyring.of(List.of(Fixtures.verificationKey("rsa-cert.der"), Fixtures.verificationKey("ec-cert.der")));
        assertThat(ring.find(KeyId.parse(Fixtures.RSA_KEYID))).hasSize(1);
        assertThat(ring.find(KeyId.parse(Fixtures.EC_KEYID))).hasSize(1);
        assertThat(ring.find(KeyId.parse("12345678"))).isEmpty();
    }

    @Test
    void digestInfoIsThePkcs1Prefix() {
        // RFC 8017 section 9.2 note 1: the SHA-256 DigestInfo prefix.
        byte[] di = DigestInfo.encode(HashAlgo.SHA256, new byte[32]);
        assertThat(Hex.of(Arrays.copyOf(di, 19))).isEqualTo("3031300d060960864801650304020105000420");
    }
}
