package dev.imans.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code imans daemon --key-dir}: the host's certificates from a directory verify signatures (made by
 * {@code evmctl ima_sign}) in a namespace's policy; a file that is no certificate is logged with its
 * reason; {@code --no-key-dir} reads none. A real daemon process; needs root.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class DaemonKeyDirTest {
    private static final String POLICY = "appraise fsmagic=0x01021994 appraise_type=imasig\n";

    @TempDir
    Path tmp;

    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (AutoCloseable c : open.reversed()) {
            c.close();
        }
    }

    static String run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(String.join(" ", cmd) + ": " + out).isZero();
        return out;
    }

    private Path key(String name) throws Exception {
        Path key = tmp.resolve(name + ".key");
        run("openssl", "ecparam", "-genkey", "-name", "prime256v1", "-noout", "-out", key.toString());
        return key;
    }

    /** A process in its own mount namespace with a tmpfs at /tmp holding /tmp/host and /tmp/other. */
    private Process namespace() throws Exception {
        Process p = new ProcessBuilder("unshare", "-m", "--propagation", "private", "sh", "-c",
                "mount -t tmpfs imans-keydir /tmp && echo host > /tmp/host && echo other > /tmp/other"
                        + " && echo ready && exec sleep 120").start();
        open.add(() -> {
            p.destroyForcibly();
            p.waitFor(5, TimeUnit.SECONDS);
        });
        assertThat(new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)).readLine())
                .isEqualTo("ready");
        return p;
    }

    private static int cat(Process ns, String file) throws Exception {
        Process p = new ProcessBuilder("nsenter", "-t", Long.toString(ns.pid()), "-m", "cat", file)
                .redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return p.exitValue();
    }

    /** Registers the namespace of {@code ns} and gives it the imasig policy. */
    private static void enforce(DaemonProcess d, Process ns) throws IOException {
        String nsid = Files.readSymbolicLink(Path.of("/proc/" + ns.pid() + "/ns/mnt")).toString().replaceAll("\\D", "");
        Files.writeString(d.control.resolve("namespaces"), nsid + "\n");
        Files.writeString(d.control.resolve(nsid + "/policy"), POLICY);
    }

    @Test
    void theKeyDirectoryVerifiesSignaturesAndReportsWhatItDoesNotLoad() throws Exception {
        Path hostKey = key("host");
        Path otherKey = key("other");
        Path dir = Files.createDirectories(tmp.resolve("ima-keys"));
        run("openssl", "req", "-new", "-x509", "-key", hostKey.toString(), "-subj", "/CN=host dir key", "-days", "30",
                "-addext", "keyUsage=digitalSignature", "-outform", "DER", "-out", dir.resolve("x509_host.der").toString());
        Files.writeString(dir.resolve("README"), "certificates for the .ima keyring\n");
        Process ns = namespace();
        run("evmctl", "ima_sign", "--key", hostKey.toString(), "-a", "sha256", "/proc/" + ns.pid() + "/root/tmp/host");
        run("evmctl", "ima_sign", "--key", otherKey.toString(), "-a", "sha256", "/proc/" + ns.pid() + "/root/tmp/other");

        DaemonProcess d = new DaemonProcess("--key-dir", dir.toString());
        open.add(d);
        assertThat(d.log()).contains("key directory " + dir + ": " + dir.resolve("README")
                + ": neither PEM nor a DER X.509 certificate; not loaded")
                .containsPattern("host key [0-9a-f]{8} CN=host dir key ecdsa-nist-p256 from " + dir.resolve("x509_host.der"));
        enforce(d, ns);
        assertThat(cat(ns, "/tmp/host")).isZero();
        assertThat(cat(ns, "/tmp/other")).isNotZero();
        d.close();
        open.remove(d);

        DaemonProcess none = new DaemonProcess("--key-dir", dir.toString(), "--no-key-dir");
        open.add(none);
        assertThat(none.log()).doesNotContain("host key ");
        enforce(none, ns);
        assertThat(cat(ns, "/tmp/host")).isNotZero();
    }

    private static Path cert(Path key, Path out) throws Exception {
        run("openssl", "req", "-new", "-x509", "-key", key.toString(), "-subj", "/CN=" + out.getFileName(), "-days",
                "30", "-addext", "keyUsage=digitalSignature", "-outform", "DER", "-out", out.toString());
        return out;
    }

    @Test
    void hupReadsTheHostKeysAgainAndPutsThemInForceBeforeTheNextOpen() throws Exception {
        Path hostKey = key("host");
        Path otherKey = key("other");
        Path dir = Files.createDirectories(tmp.resolve("ima-keys"));
        Path hostCert = cert(hostKey, dir.resolve("x509_host.der"));
        Process ns = namespace();
        run("evmctl", "ima_sign", "--key", hostKey.toString(), "-a", "sha256", "/proc/" + ns.pid() + "/root/tmp/host");
        run("evmctl", "ima_sign", "--key", otherKey.toString(), "-a", "sha256", "/proc/" + ns.pid() + "/root/tmp/other");
        Path single = cert(otherKey, tmp.resolve("other.der"));

        DaemonProcess d = new DaemonProcess("--key-dir", dir.toString(), "--key", single.toString());
        open.add(d);
        enforce(d, ns);
        // Judged once, then answered by the kernel's ignore mark.
        assertThat(cat(ns, "/tmp/host")).isZero();
        assertThat(cat(ns, "/tmp/host")).isZero();
        assertThat(cat(ns, "/tmp/other")).isZero();

        // A compromised key taken out of the directory: out of force once the HUP is handled.
        Files.move(hostCert, tmp.resolve("x509_host.der"));
        d.signal("HUP");
        DaemonProcess.await("the reload", () -> d.log().contains("host keys reloaded: 1 key(s) in force"));
        assertThat(cat(ns, "/tmp/host")).isNotZero();
        assertThat(cat(ns, "/tmp/other")).isZero();

        // Keys that cannot be read: the keys in force stay.
        Files.delete(single);
        d.signal("HUP");
        DaemonProcess.await("the failed reload", () -> d.log().contains("host keys not reloaded: --key " + single));
        assertThat(d.log()).contains("the keys in force stay");
        assertThat(cat(ns, "/tmp/other")).isZero();
        assertThat(cat(ns, "/tmp/host")).isNotZero();
        assertThat(d.process.isAlive()).isTrue();
    }
}
