package dev.imans.cli.oci;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code imans oci-hook} as runc's createRuntime and poststop hook: Debian's runc, a busybox bundle,
 * a real daemon, the real launcher with nothing in its environment but {@code IMANS_JAR}. Needs root.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RuncHookTest {
    private static final String TMPFS_MAGIC = "0x01021994";

    @TempDir
    Path tmp;

    TestDaemon daemon;
    Bundle bundle;
    Path runcRoot;
    Path jar;
    final List<String> containers = new ArrayList<>();

    @BeforeEach
    void bundle() throws Exception {
        runcRoot = Files.createDirectories(tmp.resolve("runc"));
        jar = Launcher.jar(tmp);
        bundle = Bundle.create(Files.createDirectories(tmp.resolve("bundle")));
    }

    @AfterEach
    void cleanUp() throws Exception {
        for (String id : containers) {
            runc("kill", id, "KILL");
            runc("delete", "--force", id);
        }
        if (daemon != null) {
            daemon.close();
        }
        assertThat(runc("list", "-q").out()).as("containers left behind").isBlank();
    }

    private Bundle.Proc runc(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("runc", "--root", runcRoot.toString()));
        cmd.addAll(List.of(args));
        return Bundle.Proc.run(bundle.dir, 60, cmd.toArray(String[]::new));
    }

    /**
     * {@code runc create} (which runs the createRuntime hooks), with the container's standard output
     * and error going to {@code out}, which the container keeps after runc exits.
     */
    private int create(String id, Path out) throws Exception {
        containers.add(id);
        Process p = new ProcessBuilder("runc", "--root", runcRoot.toString(), "create", "--bundle",
                bundle.dir.toString(), id).directory(bundle.dir.toFile()).redirectErrorStream(true)
                .redirectOutput(out.toFile()).start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("runc create").isTrue();
        return p.exitValue();
    }

    /** The container's args and annotations, with imans as createRuntime and poststop hook. */
    private void configure(String script, String policy) throws Exception {
        configure(script, policy, "createRuntime", "poststop");
    }

    /** The same, with imans as the hook of each of {@code stages}. */
    private void configure(String script, String policy, String... stages) throws Exception {
        bundle.edit("""
                .process.terminal = false
                | .process.args = ["sh", "-c", $script]
                | .mounts += [{"destination": "/data", "type": "tmpfs", "source": "tmpfs",
                               "options": ["nosuid", "nodev", "mode=755"]}]
                | .annotations = {"dev.imans.policy": $policy}
                | ($hook | {"path": ., "args": ["imans", "oci-hook", "--control", $control],
                            "env": ["IMANS_JAR=" + $jar], "timeout": 60}) as $h
                | .hooks = ($stages | split(",") | map({(.): [$h]}) | add)
                """, "script", script, "policy", policy, "hook", Launcher.IMANS.toString(),
                "control", daemon.control.toString(), "jar", jar.toString(), "stages", String.join(",", stages));
    }

    private long pid(String id) throws Exception {
        Bundle.Proc state = runc("state", id);
        state.requireSuccess("runc state");
        OciState s = OciState.parse(state.out().getBytes(StandardCharsets.UTF_8));
        return s.pid().orElseThrow();
    }

    private static String await(Path out, String marker) throws Exception {
        Instant deadline = Instant.now().plus(Duration.ofSeconds(30));
        while (!Files.readString(out).contains(marker)) {
            assertThat(Instant.now()).as("container output: " + Files.readString(out)).isBefore(deadline);
            Thread.sleep(50);
        }
        return Files.readString(out);
    }

    @Test
    void theContainersNamespaceGetsItsAnnotationPolicyBeforeItRuns() throws Exception {
        daemon = new TestDaemon(false);
        configure("readlink /proc/self/ns/mnt; echo started; sleep 60",
                "appraise fsmagic=" + TMPFS_MAGIC + "\nmeasure func=BPRM_CHECK");
        Path out = tmp.resolve("c1.out");
        assertThat(create("c1", out)).as(Files.readString(out)).isZero();
        String nsid = Files.readSymbolicLink(Path.of("/proc/" + pid("c1") + "/ns/mnt")).toString().replaceAll("\\D", "");
        // Registered and in force while the container is only created: its program has not run yet.
        assertThat(daemon.policy(nsid)).isEqualTo("appraise fsmagic=0x1021994 \nmeasure func=BPRM_CHECK \n");
        assertThat(daemon.namespaces()).contains("\n" + nsid + " enforce 2 1\n");

        runc("start", "c1").requireSuccess("runc start");
        assertThat(await(out, "started")).startsWith("mnt:[" + nsid + "]\n");

        runc("kill", "c1", "KILL").requireSuccess("runc kill");
        Instant deadline = Instant.now().plus(Duration.ofSeconds(20));
        while (!runc("state", "c1").out().contains("\"stopped\"")) {
            assertThat(Instant.now()).as("container stop").isBefore(deadline);
            Thread.sleep(50);
        }
        // runc delete runs the poststop hook (a state without pid): it must succeed and say nothing.
        Bundle.Proc delete = runc("delete", "c1");
        assertThat(delete.exit()).as(delete.out()).isZero();
        assertThat(delete.out()).isEmpty();
        containers.remove("c1");
    }

    @Test
    void runcImansAddsTheHookForCallersThatCannotAndRuncRunsIt() throws Exception {
        daemon = new TestDaemon(false);
        bundle.edit(".process.terminal = false | .process.args = [\"sleep\", \"60\"]"
                + " | .annotations = {\"dev.imans.policy\": \"appraise fowner=0\"}");
        Path wrapper = Launcher.IMANS.getParent().getParent().resolve("examples/oci/runc-imans");
        ProcessBuilder pb = new ProcessBuilder(wrapper.toString(), "--root", runcRoot.toString(), "--log-format", "text",
                "create", "--bundle", bundle.dir.toString(), "c5").redirectErrorStream(true)
                .redirectOutput(tmp.resolve("c5.out").toFile());
        pb.environment().put("IMANS_HOOK_ARGS", "--control " + daemon.control);
        // runc gives hooks without an env list its own environment: this reaches the launcher.
        pb.environment().put("IMANS_JAR", jar.toString());
        containers.add("c5");
        Process p = pb.start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(Files.readString(tmp.resolve("c5.out"))).isZero();
        String nsid = Files.readSymbolicLink(Path.of("/proc/" + pid("c5") + "/ns/mnt")).toString().replaceAll("\\D", "");
        assertThat(daemon.policy(nsid)).isEqualTo("appraise fowner=0 \n");
        assertThat(Files.readString(bundle.dir.resolve("config.json"))).contains("\"createRuntime\"")
                .contains(Launcher.IMANS.toString());
    }

    @Test
    void atCreateRuntimeAndPrestartBothThePolicyIsWrittenOnce() throws Exception {
        daemon = new TestDaemon(false);
        configure("sleep 60", "appraise fowner=0\nmeasure func=BPRM_CHECK", "createRuntime", "prestart");
        Path out = tmp.resolve("c6.out");
        assertThat(create("c6", out)).as(Files.readString(out)).isZero();
        String nsid = Files.readSymbolicLink(Path.of("/proc/" + pid("c6") + "/ns/mnt")).toString().replaceAll("\\D", "");
        assertThat(daemon.policy(nsid)).isEqualTo("appraise fowner=0 \nmeasure func=BPRM_CHECK \n");
    }

    @Test
    void insideTheContainerTheHookRefusesAndSaysWhichStageToUse() throws Exception {
        daemon = new TestDaemon(false);
        configure("echo should-not-run; sleep 60", "appraise fowner=0", "createContainer");
        containers.add("c7");
        Bundle.Proc run = runc("run", "-d", "--bundle", bundle.dir.toString(), "c7");
        assertThat(run.exit()).isNotZero();
        assertThat(run.out()).contains("the hook runs inside the container (createContainer or startContainer stage)")
                .doesNotContain("should-not-run");
        assertThat(daemon.namespaces()).isEqualTo("nsid mode rules processes\nhost enforce 0 -\n");
    }

    @Test
    void aBadPolicyKeepsTheContainerFromStarting() throws Exception {
        daemon = new TestDaemon(false);
        configure("echo should-not-run; sleep 60", "appraise fsmagic=" + TMPFS_MAGIC + "\nappraise func=NOT_A_HOOK");
        Path out = tmp.resolve("c2.out");
        containers.add("c2");
        Bundle.Proc run = runc("run", "-d", "--bundle", bundle.dir.toString(), "c2");
        assertThat(run.exit()).isNotZero();
        assertThat(run.out()).contains("error running hook")
                .contains("annotation dev.imans.policy: line 2, column 10: unknown func \\\"NOT_A_HOOK\\\"")
                .contains("the container is not started")
                .doesNotContain("should-not-run");
        assertThat(runc("list", "-q").out()).isBlank();
        assertThat(daemon.namespaces()).isEqualTo("nsid mode rules processes\nhost enforce 0 -\n");
        assertThat(out).doesNotExist();
    }

    @Test
    void withoutADaemonTheContainerDoesNotStart() throws Exception {
        daemon = new TestDaemon(false);
        configure("echo should-not-run; sleep 60", "appraise fsmagic=" + TMPFS_MAGIC);
        daemon.close();
        daemon = null;
        containers.add("c3");
        Bundle.Proc run = runc("run", "-d", "--bundle", bundle.dir.toString(), "c3");
        assertThat(run.exit()).isNotZero();
        assertThat(run.out()).contains("no imans daemon serves").doesNotContain("should-not-run");
        assertThat(runc("list", "-q").out()).isBlank();
    }

    @Test
    void aTamperedFileIsRefusedInsideTheContainerAndOpensOnTheHost() throws Exception {
        daemon = new TestDaemon(true);
        configure("cat /data/f; echo \"rc=$?\"; sleep 60", "appraise fsmagic=" + TMPFS_MAGIC + " ");
        Path out = tmp.resolve("c4.out");
        assertThat(create("c4", out)).as(Files.readString(out)).isZero();
        long pid = pid("c4");
        String nsid = Files.readSymbolicLink(Path.of("/proc/" + pid + "/ns/mnt")).toString().replaceAll("\\D", "");

        // Label /data/f (the container's own tmpfs) for "hello\n", then change its content. This JVM
        // is the daemon, whose own opens are never held; setfattr opens nothing.
        Path f = Path.of("/proc/" + pid + "/root/data/f");
        Files.writeString(f, "hello\n");
        String digest = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                .digest("hello\n".getBytes(StandardCharsets.US_ASCII)));
        Bundle.Proc label = Bundle.Proc.run(tmp, 30, "setfattr", "-n", "security.ima", "-v", "0x0404" + digest,
                f.toString());
        label.requireSuccess("setfattr");
        Files.writeString(f, "tampered\n");

        runc("start", "c4").requireSuccess("runc start");
        String output = await(out, "rc=");
        assertThat(output).isEqualTo("cat: can't open '/data/f': Operation not permitted\nrc=1\n");

        // The same file, opened from the host (another process, in the host's namespace, no policy).
        Bundle.Proc host = Bundle.Proc.run(tmp, 30, "cat", f.toString());
        assertThat(host.exit()).isZero();
        assertThat(host.out()).isEqualTo("tampered\n");

        daemon.daemon.audit().awaitWritten(Duration.ofSeconds(5));
        assertThat(Files.readAllLines(daemon.auditLog)).anySatisfy(l -> assertThat(l)
                .startsWith("type=1800 ").contains("op=\"appraise_data\" cause=\"invalid-hash\" comm=\"cat\"")
                .contains("name=\"/data/f\" mnt_ns=" + nsid + " dev=\"tmpfs\""));
    }
}
