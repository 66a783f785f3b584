package dev.imans.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class KeyFilesTest {
    @ParameterizedTest
    @ValueSource(strings = {"rsa-cert.pem", "rsa-cert.der", "rsa-pub.pem"})
    void rsaKeyIdsAgreeWithEvmctlAndTheSkid(String name) {
        VerificationKey k = Fixtures.verificationKey(name);
        assertThat(k.algorithm()).isEqualTo("RSA");
        assertThat(k.keyId().hex()).isEqualTo(Fixtures.RSA_KEYID);
        if (!name.startsWith("rsa-pub")) {
            assertThat(k.subjectKeyId()).map(KeyId::hex).hasValue(Fixtures.RSA_KEYID);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"ec-cert.pem", "ec-cert.der"})
    void ecKeyIdIsTheOneEvmctlWrote(String name) {
        VerificationKey k = Fixtures.verificationKey(name);
        assertThat(k.algorithm()).isEqualTo("EC");
        assertThat(k.keyId().hex()).isEqualTo(Fixtures.EC_KEYID);
    }

    @Test
    void pkcs1AndPkcs8RsaKeysAreTheSameKey() {
        SigningKey a = Fixtures.signingKey("rsa-pkcs1.pem");
        SigningKey b = Fixtures.signingKey("rsa-pkcs8.pem");
        assertThat(a.privateKey().getEncoded()).isEqualTo(b.privateKey().getEncoded());
        assertThat(a.defaultKeyId().hex()).isEqualTo(Fixtures.RSA_KEYID);
        assertThat(b.defaultKeyId().hex()).isEqualTo(Fixtures.RSA_KEYID);
    }

    @Test
    void sec1AndPkcs8EcKeysCarryTheirPublicHalf() {
        SigningKey a = Fixtures.signingKey("ec-sec1.pem");
        SigningKey b = Fixtures.signingKey("ec-pkcs8.pem");
        assertThat(a.defaultKeyId().hex()).isEqualTo(Fixtures.EC_KEYID);
        assertThat(b.defaultKeyId().hex()).isEqualTo(Fixtures.EC_KEYID);
        assertThat(a.privateKey().getAlgorithm()).isEqualTo("EC");
    }

    @Test
    void aCertificateInTheKeyFileGivesItsSkid() {
        byte[] both = (new String(Fixtures.bytes("rsa-pkcs8.pem"), StandardCharsets.US_ASCII)
                + new String(Fixtures.bytes("rsa-cert.pem"), StandardCharsets.US_ASCII)).getBytes(StandardCharsets.US_ASCII);
        SigningKey k = KeyFiles.readSigningKey(both, "both.pem");
        assertThat(k.certificate()).isPresent();
        assertThat(k.defaultKeyId().hex()).isEqualTo(Fixtures.RSA_KEYID);
    }

    @Test
    void badInputIsAClearErrorNamingTheSource() {
        assertThatThrownBy(() -> KeyFiles.readSigningKey("junk".getBytes(StandardCharsets.US_ASCII), "k.pem"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("k.pem: not a usable private key");
        assertThatThrownBy(() -> KeyFiles.readSigningKey(Fixtures.bytes("rsa-cert.pem"), "c.pem"))
                .hasMessageContaining("no PRIVATE KEY");
        assertThatThrownBy(() -> KeyFiles.readVerificationKey(new byte[] {0x30, 0x03, 1, 2, 3}, "x.der"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("x.der:");
        String encrypted = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAA=\n-----END ENCRYPTED PRIVATE KEY-----\n";
        assertThatThrownBy(() -> KeyFiles.readSigningKey(encrypted.getBytes(StandardCharsets.US_ASCII), "e.pem"))
                .hasMessageContaining("encrypted");
    }

    @Test
    void keyIdParsesEvmctlForms() {
        assertThat(KeyId.parse("85c5e0c8").value()).isEqualTo(0x85c5e0c8);
        assertThat(KeyId.parse("0xABC").hex()).isEqualTo("00000abc");
        assertThatThrownBy(() -> KeyId.parse("123456789")).hasMessageContaining("1 to 8 hex digits");
        assertThat(new KeyId(0x01020304).bytes()).containsExactly(1, 2, 3, 4);
    }
}
