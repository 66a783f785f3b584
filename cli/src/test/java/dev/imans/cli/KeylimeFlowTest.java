package dev.imans.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imans.crypto.HashAlgo;
import dev.imans.daemon.Daemon;
import dev.imans.daemon.DaemonConfig;
import dev.imans.daemon.enforce.EnforcementConfig;
import dev.imans.ns.AppraiseSetting;
import dev.imans.ns.NamespaceId;
import dev.imans.ns.PolicyTarget;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The per-container Keylime flow end to end with a real daemon: a labelled tree in a real mount
 * namespace becomes a runtime policy, the namespace's list (read from the control filesystem) and
 * its PCR 10 pass Keylime's checks; a file changed and labelled again, a new file, and excludes
 * give Keylime's verdicts. Needs root.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class KeylimeFlowTest {
    @TempDir
    Path work;

    private final Path base = Path.of("/run/imans-keylime-test-" + UUID.randomUUID());
    private final Path control = base.resolve("ima");
    private Daemon daemon;
    private Process holder;

    @AfterEach
    void stop() throws Exception {
        if (holder != null) {
            holder.destroyForcibly();
            holder.waitFor(10, TimeUnit.SECONDS);
        }
        if (daemon != null) {
            daemon.close();
        }
        if (Files.readString(Path.of("/proc/self/mountinfo")).contains(" " + control + " ")) {
            new ProcessBuilder("umount", "-l", control.toString()).start().waitFor(10, TimeUnit.SECONDS);
        }
        if (Files.exists(base)) {
            try (Stream<Path> s = Files.walk(base)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    /** A process in a new mount namespace with its own tmpfs at /tmp; returns the namespace id. */
    private String startContainer() throws Exception {
        holder = new ProcessBuilder("unshare", "-m", "--propagation", "private", "sh", "-c",
                "mount -t tmpfs -o size=16m imans-ct /tmp && readlink /proc/self/ns/mnt && exec sleep 600")
                .redirectErrorStream(true).start();
        BufferedReader r = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
        String line = CompletableFuture.supplyAsync(() -> {
            try {
                return r.readLine();
            } catch (IOException e) {
                return null;
            }
        }).get(10, TimeUnit.SECONDS);
        assertThat(line).startsWith("mnt:[");
        return line.substring(5, line.length() - 1);
    }

    private Path inside(String path) {
        return Path.of("/proc/" + holder.pid() + "/root" + path);
    }

    private void catInside(String... paths) throws Exception {
        String[] cmd = new String[6 + paths.length];
        cmd[0] = "nsenter";
        cmd[1] = "-t";
        cmd[2] = Long.toString(holder.pid());
        cmd[3] = "-m";
        cmd[4] = "cat";
        cmd[5] = "--";
        System.arraycopy(paths, 0, cmd, 6, paths.length);
        Tools.Result r = Tools.run(cmd);
        assertThat(r.rc()).as(String.join(" ", cmd) + ": " + r.err()).isZero();
    }

    /** The namespace's list and PCR 10 as the operator exports them; the PCR checked against the daemon's own. */
    private record Export(Path ascii, String pcr) {}

    private Export export(String nsid, String name) throws Exception {
        Path ascii = Files.write(work.resolve(name + ".ascii"),
                Files.readAllBytes(control.resolve(nsid + "/ascii_runtime_measurements")));
        Path binary = Files.write(work.resolve(name + ".bin"),
                Files.readAllBytes(control.resolve(nsid + "/binary_runtime_measurements")));
        CliRun pcr = CliRun.of("measurements", "pcrs", "--format", "keylime", binary.toString());
        assertThat(pcr.exitCode()).as(pcr.stderr()).isZero();
        String daemonsPcr = daemon.measurements().current(new PolicyTarget.Namespace(new NamespaceId(Long.parseLong(nsid))))
                .orElseThrow().bank(HashAlgo.SHA1).hex(10);
        assertThat(pcr.out()).isEqualTo(daemonsPcr + "\n");
        return new Export(ascii, pcr.out().strip());
    }

    private CliRun verify(Path policy, Export e) {
        return CliRun.of("keylime-policy", "verify", "--policy", policy.toString(), "--list", e.ascii().toString(),
                "--pcr", e.pcr());
    }

    private static String sha256(String s) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    }

    /** Registers the namespace and writes its policy, in force when the write's close returns. */
    private void loadPolicy(String nsid, String rules) throws Exception {
        Files.writeString(control.resolve("namespaces"), nsid + "\n");
        Files.writeString(control.resolve(nsid + "/policy"), rules);
        assertThat(Files.readString(control.resolve(nsid + "/policy"))).as("policy in force").isNotEmpty();
    }

    private void startDaemon() throws Exception {
        Files.createDirectories(base);
        DaemonConfig config = new DaemonConfig(control, false, base.resolve("state"), Optional.of(base.resolve("audit.log")),
                AppraiseSetting.ENFORCE)
                .withEnforcement(EnforcementConfig.defaults().withFilesystems(Set.of("tmpfs"), true));
        daemon = Daemon.start(config);
    }

    @Test
    void aContainersListPassesItsTreesPolicyUntilAFileChanges() throws Exception {
        startDaemon();
        String nsid = startContainer();

        // The image: labelled files in the container's /tmp/app, and scratch space Keylime is told to skip.
        Files.createDirectories(inside("/tmp/app/bin"));
        Files.createDirectories(inside("/tmp/app/etc"));
        Files.createDirectories(inside("/tmp/scratch"));
        Files.writeString(inside("/tmp/app/bin/run.sh"), "#!/bin/sh\necho run\n");
        Files.writeString(inside("/tmp/app/etc/app.conf"), "level=1\n");
        Files.writeString(inside("/tmp/scratch/state"), "anything\n");
        assertThat(Tools.imans("hash", "--set", "-r", inside("/tmp").toString()).rc()).isZero();

        Path policy = work.resolve("policy.json");
        CliRun made = CliRun.of("keylime-policy", "--tree", inside("/tmp/app").toString(), "--prefix", "/tmp/app",
                "--exclude", "^/tmp/scratch/", "-o", policy.toString());
        assertThat(made.exitCode()).as(made.stderr()).isZero();
        KeylimePolicyCommandTest.assertKeylimeSchema(KeylimePolicyCommandTest.json(Files.readString(policy)));

        loadPolicy(nsid, "measure func=FILE_CHECK mask=MAY_READ\nappraise func=FILE_CHECK fsmagic=0x01021994\n");
        catInside("/tmp/app/bin/run.sh", "/tmp/app/etc/app.conf", "/tmp/scratch/state");

        Export first = export(nsid, "first");
        CliRun ok = verify(policy, first);
        assertThat(ok.exitCode()).as(ok.out() + ok.stderr()).isZero();
        assertThat(ok.out()).isEqualTo("""
                PASS boot_aggregate (line 1)
                PASS /tmp/app/bin/run.sh (line 2)
                PASS /tmp/app/etc/app.conf (line 3)
                SKIP /tmp/scratch/state: excluded (matches excludes) (line 4)
                PCR-10 sha1: %s (--pcr matched after 4 entries)
                OK: Keylime would accept this list (4 entries)
                """.formatted(first.pcr()));

        // The configuration changes and is labelled again: the container may open it, Keylime refuses it.
        Files.writeString(inside("/tmp/app/etc/app.conf"), "level=2\n");
        assertThat(Tools.imans("hash", "--set", inside("/tmp/app/etc/app.conf").toString()).rc()).isZero();
        Files.writeString(inside("/tmp/app/bin/added"), "new\n");
        assertThat(Tools.imans("hash", "--set", inside("/tmp/app/bin/added").toString()).rc()).isZero();
        catInside("/tmp/app/etc/app.conf", "/tmp/app/bin/added");
        Export second = export(nsid, "second");
        CliRun changed = verify(policy, second);
        assertThat(changed.exitCode()).isEqualTo(1);
        assertThat(changed.out()).contains(
                "FAIL /tmp/app/etc/app.conf: ima.validation.ima-ng.runtime_policy_hash: Hash not found in runtime policy"
                        + " (got " + sha256("level=2\n") + ", expected [" + sha256("level=1\n") + "]) (line 5)\n",
                "FAIL /tmp/app/bin/added: ima.validation.ima-ng.not_in_allowlist: File not found in allowlist: "
                        + "/tmp/app/bin/added (line 6)\n",
                "IMA ERRORS: Some entries couldn't be validated. Number of failures in modes: ImaNg 2\n",
                "(--pcr matched after 6 entries)")
                .endsWith("FAIL: Keylime would not accept this list: 2 event(s)\n");

        // Excluding what changed lets the rest pass; so does a policy updated from the current tree.
        Path excluded = work.resolve("excluded.json");
        assertThat(CliRun.of("keylime-policy", "--merge", policy.toString(), "--exclude", "^/tmp/app/etc/app\\.conf$",
                "--exclude", "^/tmp/app/bin/added$", "-o", excluded.toString()).exitCode()).isZero();
        CliRun skip = verify(excluded, second);
        assertThat(skip.exitCode()).as(skip.out()).isZero();
        assertThat(skip.out()).contains("SKIP /tmp/app/etc/app.conf: excluded (matches excludes) (line 5)\n");
        Path updated = work.resolve("updated.json");
        assertThat(CliRun.of("keylime-policy", "--merge", policy.toString(), "--tree", inside("/tmp/app").toString(),
                "--prefix", "/tmp/app", "-o", updated.toString()).exitCode()).isZero();
        assertThat(verify(updated, second).exitCode()).isZero();

        // Keylime accepts a PCR that lags the list (quote and list are not read together): the first
        // export's PCR matches after 4 entries, and the entries after it are still checked.
        CliRun lagging = CliRun.of("keylime-policy", "verify", "--policy", updated.toString(), "--list",
                second.ascii().toString(), "--pcr", first.pcr());
        assertThat(lagging.exitCode()).as(lagging.out()).isZero();
        assertThat(lagging.out()).contains("(--pcr matched after 4 entries)");
        assertThat(CliRun.of("keylime-policy", "verify", "--policy", policy.toString(), "--list",
                second.ascii().toString(), "--pcr", first.pcr()).exitCode()).isEqualTo(1);
        String other = (first.pcr().charAt(0) == '0' ? "1" : "0") + first.pcr().substring(1);
        CliRun wrong = CliRun.of("keylime-policy", "verify", "--policy", updated.toString(), "--list",
                second.ascii().toString(), "--pcr", other);
        assertThat(wrong.exitCode()).isEqualTo(1);
        assertThat(wrong.out()).contains("ima.pcr_mismatch: IMA measurement list does not match TPM PCR " + other);
    }

    @Test
    void aSignedFileInAnImaSigListPassesThroughTheVerificationKeyUntilItChanges() throws Exception {
        String[] req = {"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
            "/CN=imans keylime test", "-keyout", work.resolve("key.pem").toString(), "-out", work.resolve("cert.pem").toString()};
        assertThat(Tools.run(req).rc()).isZero();
        startDaemon();
        String nsid = startContainer();
        Files.createDirectories(inside("/tmp/app/bin"));
        Files.createDirectories(inside("/tmp/app/etc"));
        Files.writeString(inside("/tmp/app/bin/tool"), "signed tool\n");
        Files.writeString(inside("/tmp/app/etc/conf"), "hashed\n");
        Tools.Result sign = Tools.imans("sign", "--key", work.resolve("key.pem").toString(), "--cert",
                work.resolve("cert.pem").toString(), inside("/tmp/app/bin/tool").toString());
        assertThat(sign.rc()).as(sign.err()).isZero();

        // Digests for the configuration only: the signed tool must pass by its signature.
        Path withKey = work.resolve("with-key.json");
        Path withoutKey = work.resolve("without-key.json");
        assertThat(CliRun.of("keylime-policy", "--tree", inside("/tmp/app/etc").toString(), "--prefix", "/tmp/app/etc",
                "--verification-key", work.resolve("cert.pem").toString(), "-o", withKey.toString()).exitCode()).isZero();
        assertThat(CliRun.of("keylime-policy", "--tree", inside("/tmp/app/etc").toString(), "--prefix", "/tmp/app/etc",
                "-o", withoutKey.toString()).exitCode()).isZero();
        KeylimePolicyCommandTest.assertKeylimeSchema(KeylimePolicyCommandTest.json(Files.readString(withKey)));

        loadPolicy(nsid, "measure func=FILE_CHECK mask=MAY_READ template=ima-sig\n");
        catInside("/tmp/app/bin/tool", "/tmp/app/etc/conf");
        Export first = export(nsid, "first");
        assertThat(Files.readString(first.ascii())).contains(" ima-sig sha256:" + sha256("signed tool\n")
                + " /tmp/app/bin/tool 030204");
        CliRun ok = verify(withKey, first);
        assertThat(ok.exitCode()).as(ok.out()).isZero();
        assertThat(ok.out()).contains("PASS /tmp/app/bin/tool: signature verified (line 2)\n",
                "PASS /tmp/app/etc/conf (line 3)\n");
        CliRun noKey = verify(withoutKey, first);
        assertThat(noKey.exitCode()).isEqualTo(1);
        assertThat(noKey.out()).contains("FAIL /tmp/app/bin/tool: ima.validation.ima-ng.not_in_allowlist: "
                + "File not found in allowlist: /tmp/app/bin/tool (line 2)");

        // Changed, the tool keeps its old signature, which no longer verifies its digest.
        Files.writeString(inside("/tmp/app/bin/tool"), "changed tool\n");
        catInside("/tmp/app/bin/tool");
        Export second = export(nsid, "second");
        CliRun changed = verify(withKey, second);
        assertThat(changed.exitCode()).isEqualTo(1);
        assertThat(changed.out()).contains("FAIL /tmp/app/bin/tool: ima.validation.ima-ng.not_in_allowlist: "
                + "File not found in allowlist: /tmp/app/bin/tool (line 4)");
    }
}
