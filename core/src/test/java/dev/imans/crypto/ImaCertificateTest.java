package dev.imans.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Admission of certificates to a keyring; the fixtures are OpenSSL's self-signed certificates without
 * keyUsage (valid 2026-11-29 to 2126-11-05). Certificates with keyUsage and dates are tested through the
 * daemon (NamespaceKeysTest), made by openssl and keytool.
 */
class ImaCertificateTest {
    private static final Instant NOW = Instant.parse("2030-01-01T00:00:00Z");

    @Test
    void pemAndDerCertificatesListTheirKeyIdSubjectAndAlgorithm() {
        ImaCertificate pem = ImaCertificate.admitAll(Fixtures.bytes("rsa-cert.pem"), "rsa", NOW).getFirst();
        ImaCertificate der = ImaCertificate.admitAll(Fixtures.bytes("rsa-cert.der"), "rsa", NOW).getFirst();
        assertThat(pem.line()).isEqualTo(Fixtures.RSA_KEYID + " CN=imans test rsa rsa");
        assertThat(pem.sameAs(der)).isTrue();
        assertThat(ImaCertificate.admitAll(Fixtures.bytes("ec-cert.der"), "ec", NOW).getFirst().line())
                .isEqualTo(Fixtures.EC_KEYID + " CN=imans test ec ecdsa-nist-p256");
    }

    @Test
    void severalCertificatesInOneWriteAreEachAdmitted() {
        byte[] pems = (Fixtures.text("rsa-cert.pem") + Fixtures.text("ec-cert.pem")).getBytes(StandardCharsets.US_ASCII);
        assertThat(ImaCertificate.admitAll(pems, "two", NOW)).extracting(c -> c.keyId().hex())
                .containsExactly(Fixtures.RSA_KEYID, Fixtures.EC_KEYID);
        byte[] ders = concat(Fixtures.bytes("rsa-cert.der"), Fixtures.bytes("ec-cert.der"));
        assertThat(ImaCertificate.admitAll(ders, "two", NOW)).hasSize(2);
    }

    @Test
    void datesAreCheckedAtAdmissionOnly() {
        byte[] der = Fixtures.bytes("rsa-cert.der");
        assertThatThrownBy(() -> ImaCertificate.admitAll(der, "old", Instant.parse("2127-01-01T00:00:00Z")))
                .hasMessage("old: expired on 2126-11-05T04:36:53Z");
        assertThatThrownBy(() -> ImaCertificate.admitAll(der, "early", Instant.parse("2020-01-01T00:00:00Z")))
                .hasMessage("early: not valid before 2026-11-29T04:36:53Z");
        assertThat(ImaCertificate.restore(der, "saved").keyId().hex()).isEqualTo(Fixtures.RSA_KEYID);
    }

    @Test
    void whatIsNotACertificateIsRefusedWithItsReason() {
        assertThatThrownBy(() -> ImaCertificate.admitAll(Fixtures.bytes("rsa-pub.pem"), "pub", NOW))
                .hasMessageContaining("pub: a PEM PUBLIC KEY block; only CERTIFICATE blocks");
        assertThatThrownBy(() -> ImaCertificate.admitAll(Fixtures.bytes("hello.txt"), "text", NOW))
                .hasMessageContaining("text: neither PEM nor a DER X.509 certificate");
        byte[] der = Fixtures.bytes("rsa-cert.der");
        assertThatThrownBy(() -> ImaCertificate.admitAll(Arrays.copyOf(der, der.length - 1), "cut", NOW))
                .hasMessageContaining("cut: not a whole DER X.509 certificate");
        assertThatThrownBy(() -> ImaCertificate.admitAll(new byte[0], "empty", NOW)).hasMessage("empty: empty");
    }

    @Test
    void aSelfSignedCertificateWhoseSignatureFailsIsRefused() {
        byte[] der = Fixtures.bytes("rsa-cert.der");
        der[der.length - 1] ^= 1;
        assertThatThrownBy(() -> ImaCertificate.admitAll(der, "tampered", NOW))
                .hasMessageContaining("tampered: self-signed, but its signature does not verify");
    }

    @Test
    void aKeyDirectoryReportsEveryFileItDoesNotLoad(@TempDir Path dir) throws Exception {
        Files.write(dir.resolve("a.der"), Fixtures.bytes("rsa-cert.der"));
        Files.write(dir.resolve("b.pem"), Fixtures.bytes("ec-cert.pem"));
        Files.write(dir.resolve("c.pem"), Fixtures.bytes("rsa-cert.pem"));
        Files.write(dir.resolve("notes.txt"), "not a key\n".getBytes(StandardCharsets.US_ASCII));
        Files.createDirectory(dir.resolve("sub"));
        KeyDirectory d = KeyDirectory.load(dir, NOW);
        assertThat(d.keys()).extracting(c -> c.keyId().hex()).containsExactly(Fixtures.RSA_KEYID, Fixtures.EC_KEYID);
        assertThat(d.keyring().keys()).hasSize(2);
        assertThat(d.problems()).containsExactly(
                dir.resolve("notes.txt") + ": neither PEM nor a DER X.509 certificate",
                dir.resolve("sub") + ": not a regular file");
        KeyDirectory missing = KeyDirectory.load(dir.resolve("none"), NOW);
        assertThat(missing.keys()).isEmpty();
        assertThat(missing.problems()).isEmpty();
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
