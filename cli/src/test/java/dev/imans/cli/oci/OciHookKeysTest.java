package dev.imans.cli.oci;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imans.cli.Main;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
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
 * {@code imans oci-hook} with the annotation {@value KeySelection#KEYS}: certificates made by openssl,
 * a file signed with {@code evmctl ima_sign} in the tmpfs of a real container process, a real enforcing
 * daemon. Needs root.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class OciHookKeysTest {
    private static final String POLICY = "\"dev.imans.policy\":\"appraise fsmagic=0x01021994 appraise_type=imasig\"";

    @TempDir
    Path tmp;

    TestDaemon daemon;
    final List<Process> containers = new ArrayList<>();

    record Run(int exit, String out, String err) {}

    Run hook(long pid, String annotations, String... options) throws Exception {
        String state = "{\"ociVersion\":\"1.0.2-dev\",\"id\":\"c1\",\"status\":\"creating\",\"pid\":" + pid
                + ",\"bundle\":\"/b\",\"annotations\":{" + annotations + "}}";
        Path file = Files.writeString(tmp.resolve("state-" + System.nanoTime() + ".json"), state);
        List<String> args = new ArrayList<>(List.of("oci-hook", "--state", file.toString(), "--control",
                daemon.control.toString()));
        args.addAll(List.of(options));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = Main.run(new PrintWriter(out), new PrintWriter(err), args.toArray(String[]::new));
        return new Run(exit, out.toString(), err.toString());
    }

    /** A container's first process: its own mount namespace with a tmpfs at /tmp holding {@code /tmp/f}. */
    Process container() throws Exception {
        Process p = new ProcessBuilder("unshare", "-m", "--propagation", "private", "sh", "-c",
                "mount -t tmpfs imans-oci /tmp && echo signed > /tmp/f && echo ready && exec sleep 60").start();
        containers.add(p);
        String line = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)).readLine();
        assertThat(line).isEqualTo("ready");
        return p;
    }

    static String run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(String.join(" ", cmd) + ": " + out).isZero();
        return out;
    }

    static int cat(Process container, String file) throws Exception {
        Process p = new ProcessBuilder("nsenter", "-t", Long.toString(container.pid()), "-m", "cat", file)
                .redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return p.exitValue();
    }

    /** An EC key and its self-signed certificate with keyUsage {@code usage}, in PEM or DER. */
    Path[] keyAndCert(String name, String usage, boolean pem) throws Exception {
        Path key = tmp.resolve(name + ".key");
        Path cert = tmp.resolve(name + (pem ? ".pem" : ".der"));
        run("openssl", "ecparam", "-genkey", "-name", "prime256v1", "-noout", "-out", key.toString());
        run("openssl", "req", "-new", "-x509", "-key", key.toString(), "-subj", "/CN=" + name, "-days", "30",
                "-addext", "keyUsage=" + usage, "-outform", pem ? "PEM" : "DER", "-out", cert.toString());
        return new Path[] {key, cert};
    }

    @AfterEach
    void stop() throws Exception {
        for (Process p : containers) {
            p.destroyForcibly();
            p.waitFor(5, TimeUnit.SECONDS);
        }
        if (daemon != null) {
            daemon.close();
        }
    }

    @Test
    void theAnnotationsCertificatesVerifyThatContainersSignaturesOnly() throws Exception {
        daemon = new TestDaemon(true);
        Path[] a = keyAndCert("signer", "digitalSignature", true);
        Path[] b = keyAndCert("second", "digitalSignature", false);
        Process mine = container();
        Process other = container();
        for (Process c : List.of(mine, other)) {
            run("evmctl", "ima_sign", "--key", a[0].toString(), "-a", "sha256", "/proc/" + c.pid() + "/root/tmp/f");
        }

        // On one line, comma separated, as podman passes it.
        Run r = hook(mine.pid(), POLICY + ",\"dev.imans.keys\":\"" + a[1] + ", " + b[1] + "\"");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("registered with 1 rule(s) from annotation dev.imans.policy and 2 key(s) from"
                + " dev.imans.keys");
        String nsid = Files.readSymbolicLink(Path.of("/proc/" + mine.pid() + "/ns/mnt")).toString().replaceAll("\\D", "");
        assertThat(Files.readString(daemon.control.resolve(nsid + "/keys")).lines())
                .hasSize(2).anySatisfy(l -> assertThat(l).endsWith(" CN=signer ecdsa-nist-p256"))
                .anySatisfy(l -> assertThat(l).endsWith(" CN=second ecdsa-nist-p256"));
        // In force when the hook returns, before the container runs anything.
        assertThat(cat(mine, "/tmp/f")).isZero();

        Run plain = hook(other.pid(), POLICY);
        assertThat(plain.exit()).as(plain.err()).isZero();
        assertThat(cat(other, "/tmp/f")).isNotZero();

        // The hook run again (two stages): nothing is added twice.
        Run again = hook(mine.pid(), POLICY + ",\"dev.imans.keys\":\"" + a[1] + "," + b[1] + "\"");
        assertThat(again.exit()).as(again.err()).isZero();
        assertThat(Files.readString(daemon.control.resolve(nsid + "/keys")).lines()).hasSize(2);
    }

    @Test
    void aBadCertificateStopsTheContainerBeforeAnythingIsRegistered() throws Exception {
        daemon = new TestDaemon(false);
        Path[] good = keyAndCert("good", "digitalSignature", true);
        Path[] enc = keyAndCert("enc", "keyEncipherment", false);
        Process c = container();
        Run r = hook(c.pid(), POLICY + ",\"dev.imans.keys\":\"" + good[1] + ";" + enc[1] + "\"");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains(enc[1] + ": its keyUsage extension does not allow digitalSignature")
                .contains("the container is not started");
        assertThat(daemon.namespaces()).isEqualTo("nsid mode rules processes\nhost enforce 0 -\n");

        Run missing = hook(c.pid(), POLICY + ",\"dev.imans.keys\":\"" + tmp.resolve("nope.pem") + "\"");
        assertThat(missing.exit()).isEqualTo(1);
        assertThat(missing.err()).contains("certificate file " + tmp.resolve("nope.pem") + " does not exist");
        assertThat(daemon.namespaces()).isEqualTo("nsid mode rules processes\nhost enforce 0 -\n");
    }

    @Test
    void namesAreLookedUpInTheKeyDirectoryAndAbsolutePathsMayBeRefused() throws Exception {
        daemon = new TestDaemon(false);
        Path[] a = keyAndCert("named", "digitalSignature", true);
        Path dir = Files.createDirectories(tmp.resolve("keys"));
        Files.copy(a[1], dir.resolve("named.pem"));
        Process c = container();
        Run refused = hook(c.pid(), POLICY + ",\"dev.imans.keys\":\"" + a[1] + "\"", "--no-absolute-key-files",
                "--key-dir", dir.toString());
        assertThat(refused.exit()).isEqualTo(1);
        assertThat(refused.err()).contains("absolute paths are not allowed here (--no-absolute-key-files)");

        Run r = hook(c.pid(), POLICY + ",\"dev.imans.keys\":\"named.pem\"", "--no-absolute-key-files",
                "--key-dir", dir.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        String nsid = Files.readSymbolicLink(Path.of("/proc/" + c.pid() + "/ns/mnt")).toString().replaceAll("\\D", "");
        assertThat(Files.readString(daemon.control.resolve(nsid + "/keys"))).endsWith(" CN=named ecdsa-nist-p256\n");
    }
}
