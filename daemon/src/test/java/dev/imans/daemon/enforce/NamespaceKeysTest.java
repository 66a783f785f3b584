package dev.imans.daemon.enforce;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.imans.audit.AuditFormat;
import dev.imans.audit.ParsedRecord;
import dev.imans.crypto.KeyDirectory;
import dev.imans.ns.AppraiseSetting;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Keys per namespace on a real daemon: files signed with {@code evmctl ima_sign}, certificates made by
 * openssl written to {@code <nsid>/keys}, {@code cat} allowed or refused in real mount namespaces under
 * an {@code appraise_type=imasig} policy, and the host's key directory.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class NamespaceKeysTest {
    private static final String POLICY = "appraise fsmagic=0x01021994 appraise_type=imasig\n";

    @TempDir
    Path tmp;

    private DaemonFixture daemon;

    @AfterEach
    void tearDown() throws Exception {
        if (daemon != null) {
            daemon.close();
        }
    }

    private DaemonFixture daemonWithHostKeys(Path hostDir) throws IOException {
        KeyDirectory host = KeyDirectory.load(hostDir, Instant.now());
        assertThat(host.problems()).isEmpty();
        return new DaemonFixture(AppraiseSetting.ENFORCE, Set.of(), AuditFormat.SEED, host.keyring());
    }

    /** Creates {@code path} in the namespace, then signs it from the host; returns the key id of the label. */
    private static String signedFile(Namespace ns, String path, Path key) throws Exception {
        ns.shOk("echo " + path + " > " + path);
        return TestCerts.sign(key, ns.hostPath(path));
    }

    private Path keys(Namespace ns) {
        return daemon.control.resolve(ns.nsid + "/keys");
    }

    private static void assertDenied(Run.Result r) {
        assertThat(r.exit()).as(r.toString()).isNotZero();
        assertThat(r.err()).contains("Operation not permitted");
    }

    private List<ParsedRecord> denials(Namespace ns) throws Exception {
        return daemon.appraisalRecords().stream()
                .filter(r -> r.value("mnt_ns").orElse("").equals(Long.toString(ns.nsid))).toList();
    }

    @Test
    void aNamespacesOwnKeyAppraisesInItOnlyAndHostKeysInEvery() throws Exception {
        TestCerts certs = new TestCerts(tmp.resolve("certs"));
        Path hostDir = Files.createDirectories(tmp.resolve("host-keys"));
        Path hostKey = certs.key("host", "rsa");
        Files.copy(certs.cert(hostKey, "/CN=host key", "digitalSignature", false), hostDir.resolve("host.der"));
        Path keyA = certs.key("a", "ec");
        Path certA = certs.cert(keyA, "/CN=ns a/O=imans test", "digitalSignature", true);

        daemon = daemonWithHostKeys(hostDir);
        Namespace a = daemon.namespace(POLICY);
        Namespace b = daemon.namespace(POLICY);
        String idA = null;
        for (Namespace ns : List.of(a, b)) {
            idA = signedFile(ns, "/tmp/by-a", keyA);
            signedFile(ns, "/tmp/by-host", hostKey);
        }

        // Before A has its key, its signature verifies nowhere.
        assertDenied(a.sh("cat /tmp/by-a"));
        assertThat(Files.readString(keys(a))).isEmpty();

        // In force when the write returns: the very next open is judged with the key.
        Files.write(keys(a), Files.readAllBytes(certA));
        assertThat(a.shOk("cat /tmp/by-a").out()).isEqualTo("/tmp/by-a\n");
        // The subject as RFC 2253 writes it: the last RDN first.
        assertThat(Files.readString(keys(a))).isEqualTo(idA + " O=imans test,CN=ns a ecdsa-nist-p256\n");

        assertDenied(b.sh("cat /tmp/by-a"));
        assertThat(Files.readString(keys(b))).isEmpty();
        assertThat(denials(b)).singleElement().satisfies(r -> {
            assertThat(r.value("cause")).hasValue("invalid-signature");
            assertThat(r.value("name")).hasValue("/tmp/by-a");
        });

        // A namespace made inside one is judged under its policy, with its keys.
        assertThat(a.shOk("unshare -m cat /tmp/by-a").out()).isEqualTo("/tmp/by-a\n");
        assertDenied(b.sh("unshare -m cat /tmp/by-a"));

        // The host's keys verify in every namespace.
        assertThat(a.shOk("cat /tmp/by-host").out()).isEqualTo("/tmp/by-host\n");
        assertThat(b.shOk("cat /tmp/by-host").out()).isEqualTo("/tmp/by-host\n");

        // The same certificate again (DER this time) adds nothing.
        Path certADer = certs.cert(keyA, "/CN=ns a/O=imans test", "digitalSignature", false);
        byte[] der = Files.readAllBytes(certADer);
        Files.write(keys(a), der);
        assertThat(Files.readString(keys(a)).lines()).hasSize(2);
    }

    @Test
    void refusedCertificatesFailWithEinvalAndLeaveTheKeysInForce() throws Exception {
        TestCerts certs = new TestCerts(tmp.resolve("certs"));
        Path keyA = certs.key("a", "ec");
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Namespace a = daemon.namespace(POLICY);
        signedFile(a, "/tmp/f", keyA);
        Files.write(keys(a), Files.readAllBytes(certs.cert(keyA, "/CN=good", "digitalSignature", false)));
        String listed = Files.readString(keys(a));
        assertThat(listed).endsWith(" CN=good ecdsa-nist-p256\n");

        Path other = certs.key("other", "ec");
        record Bad(String what, byte[] bytes, String reason) {}
        byte[] good = Files.readAllBytes(certs.cert(other, "/CN=fine", "digitalSignature", false));
        List<Bad> bad = List.of(
                new Bad("garbage", "not a certificate\n".getBytes(), "neither PEM nor a DER X.509 certificate"),
                new Bad("expired", Files.readAllBytes(certs.datedCert("old", "2020/01/01 00:00:00", 30)),
                        "expired on 2020-01-31"),
                new Bad("not yet valid", Files.readAllBytes(certs.datedCert("future", "+1y", 30)),
                        "not valid before"),
                new Bad("keyEncipherment only", Files.readAllBytes(certs.cert(other, "/CN=enc", "keyEncipherment", false)),
                        "does not allow digitalSignature"),
                new Bad("keyCertSign", Files.readAllBytes(
                        certs.cert(other, "/CN=ca", "digitalSignature,keyCertSign", false)),
                        "allows keyCertSign"),
                new Bad("cut DER", Arrays.copyOf(good, good.length - 10), "not a whole DER X.509 certificate"),
                new Bad("public key", Files.readAllBytes(Path.of(Run.ok("sh", "-c", "openssl pkey -in " + other
                        + " -pubout -out " + tmp.resolve("pub.pem") + " && echo " + tmp.resolve("pub.pem")).strip())),
                        "only CERTIFICATE blocks"));
        for (Bad x : bad) {
            assertThatThrownBy(() -> write(keys(a), x.bytes())).as(x.what())
                    .isInstanceOf(IOException.class).hasMessageContaining("Invalid argument");
            assertThat(Files.readString(daemon.control.resolve(".imans/last_error")))
                    .as(x.what()).contains("namespace " + a.nsid + " keys: ").contains(x.reason());
            assertThat(Files.readString(keys(a))).as(x.what()).isEqualTo(listed);
            assertThat(a.shOk("cat /tmp/f").out()).as(x.what()).isEqualTo("/tmp/f\n");
        }
        // One refused certificate refuses its whole write.
        byte[] both = concat(good, Files.readAllBytes(certs.cert(other, "/CN=enc2", "keyEncipherment", false)));
        assertThatThrownBy(() -> write(keys(a), both)).hasMessageContaining("Invalid argument");
        assertThat(Files.readString(keys(a))).isEqualTo(listed);
    }

    @Test
    void aCertificateCutAcrossWritesIsAddedWhenItsLastByteArrives() throws Exception {
        TestCerts certs = new TestCerts(tmp.resolve("certs"));
        Path keyA = certs.key("a", "rsa");
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Namespace a = daemon.namespace(POLICY);
        signedFile(a, "/tmp/f", keyA);
        byte[] pem = Files.readAllBytes(certs.cert(keyA, "/CN=split", "digitalSignature", true));
        try (FileOutputStream out = new FileOutputStream(keys(a).toFile())) {
            out.write(pem, 0, 100);
            assertThat(Files.readString(keys(a))).isEmpty();
            // The child that runs cat closes its inherited copy of the descriptor: that close fails (the
            // certificate is cut), and the bytes stay for the next write.
            assertDenied(a.sh("cat /tmp/f"));
            out.write(pem, 100, pem.length - 100);
            // Added by the write that completed it, before the close.
            assertThat(Files.readString(keys(a))).endsWith(" CN=split rsa\n");
            assertThat(a.shOk("cat /tmp/f").out()).isEqualTo("/tmp/f\n");
        }
    }

    @Test
    void aRemovedKeyIsOutOfForceWhenItsWriteReturnsAndStaysOut() throws Exception {
        TestCerts certs = new TestCerts(tmp.resolve("certs"));
        Path keyA = certs.key("a", "ec");
        Path keyB = certs.key("b", "rsa");
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Namespace a = daemon.namespace(POLICY);
        String idA = signedFile(a, "/tmp/f", keyA);
        signedFile(a, "/tmp/g", keyB);
        Files.write(keys(a), concat(Files.readAllBytes(certs.cert(keyA, "/CN=compromised", "digitalSignature", false)),
                Files.readAllBytes(certs.cert(keyB, "/CN=kept", "digitalSignature", false))));
        // Judged and let through: the kernel answers the next opens from its ignore mark.
        assertThat(a.shOk("cat /tmp/f; cat /tmp/f").out()).isEqualTo("/tmp/f\n/tmp/f\n");
        assertThat(a.shOk("cat /tmp/g").out()).isEqualTo("/tmp/g\n");

        assertThatThrownBy(() -> write(keys(a), "remove 0badc0de\n".getBytes()))
                .hasMessageContaining("Invalid argument");
        assertThat(Files.readString(daemon.control.resolve(".imans/last_error")))
                .contains("remove 0badc0de: the namespace holds no key with that id");
        assertThatThrownBy(() -> write(keys(a), "remove everything\n".getBytes()))
                .hasMessageContaining("Invalid argument");
        assertThat(Files.readString(keys(a)).lines()).hasSize(2);

        write(keys(a), ("remove " + idA + "\n").getBytes());
        assertThat(Files.readString(keys(a))).doesNotContain(idA).endsWith(" CN=kept rsa\n");
        assertDenied(a.sh("cat /tmp/f"));
        assertThat(denials(a)).last().satisfies(r -> assertThat(r.value("cause")).hasValue("invalid-signature"));
        assertThat(a.shOk("cat /tmp/g").out()).isEqualTo("/tmp/g\n");

        daemon.restart();
        assertThat(Files.readString(keys(a))).doesNotContain(idA);
        assertDenied(a.sh("cat /tmp/f"));
    }

    @Test
    void keysSurviveARestartAndGoWithTheirNamespace() throws Exception {
        TestCerts certs = new TestCerts(tmp.resolve("certs"));
        Path keyA = certs.key("a", "ec");
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Namespace a = daemon.namespace(POLICY);
        signedFile(a, "/tmp/f", keyA);
        Files.write(keys(a), Files.readAllBytes(certs.cert(keyA, "/CN=kept", "digitalSignature", false)));
        String listed = Files.readString(keys(a));

        daemon.restart();
        assertThat(Files.readString(keys(a))).isEqualTo(listed);
        assertThat(a.shOk("cat /tmp/f").out()).isEqualTo("/tmp/f\n");
        assertThat(Files.readString(daemon.base.resolve("state/state"))).contains("\nkey ");
    }

    /** One write(2) of {@code bytes} and the close, as {@code keyctl padd} or {@code cat cert >} would. */
    private static void write(Path file, byte[] bytes) throws IOException {
        try (FileOutputStream out = new FileOutputStream(file.toFile())) {
            out.write(bytes);
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
