package dev.imans.cli.oci;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imans.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code imans oci-hook} in this JVM against a real daemon and a real process in its own mount
 * namespace, the state given with {@code --state} as a runtime would write it. Needs root.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class OciHookCommandTest {
    @TempDir
    Path tmp;

    TestDaemon daemon;
    Process container;

    record Run(int exit, String out, String err) {}

    Run hook(String state, String... options) throws Exception {
        Path file = Files.writeString(tmp.resolve("state-" + System.nanoTime() + ".json"), state);
        String[] args = new String[options.length + 3];
        args[0] = "oci-hook";
        args[1] = "--state";
        args[2] = file.toString();
        System.arraycopy(options, 0, args, 3, options.length);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = Main.run(new PrintWriter(out), new PrintWriter(err), args);
        return new Run(exit, out.toString(), err.toString());
    }

    static String state(String status, Long pid, String annotations) {
        return "{\"ociVersion\":\"1.0.2-dev\",\"id\":\"c1\",\"status\":\"" + status + "\""
                + (pid == null ? "" : ",\"pid\":" + pid) + ",\"bundle\":\"/b\",\"annotations\":{" + annotations + "}}";
    }

    /** A process in a new mount namespace, as a container's init is when createRuntime hooks run. */
    String startContainerProcess() throws Exception {
        container = new ProcessBuilder("unshare", "-m", "--propagation", "private", "sleep", "60").start();
        String own = Files.readSymbolicLink(Path.of("/proc/self/ns/mnt")).toString();
        Path link = Path.of("/proc", Long.toString(container.pid()), "ns", "mnt");
        Instant deadline = Instant.now().plus(Duration.ofSeconds(10));
        while (Files.readSymbolicLink(link).toString().equals(own)) {
            assertThat(Instant.now()).as("unshare").isBefore(deadline);
            Thread.sleep(20);
        }
        return Files.readSymbolicLink(link).toString().replaceAll("\\D", "");
    }

    @AfterEach
    void stop() throws Exception {
        if (container != null) {
            container.destroyForcibly();
            container.waitFor(5, TimeUnit.SECONDS);
        }
        if (daemon != null) {
            daemon.close();
        }
    }

    @Test
    void registersTheNamespaceWithTheAnnotationPolicyOnce() throws Exception {
        daemon = new TestDaemon(false);
        String nsid = startContainerProcess();
        String s = state("creating", container.pid(),
                "\"dev.imans.policy\":\"appraise fsmagic=0x01021994\\nmeasure func=BPRM_CHECK\"");
        Run r = hook(s, "--control", daemon.control.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("container c1: mount namespace " + nsid + " registered with 2 rule(s)");
        assertThat(daemon.policy(nsid)).isEqualTo("appraise fsmagic=0x1021994 \nmeasure func=BPRM_CHECK \n");
        assertThat(daemon.namespaces()).contains(nsid + " enforce 2 1\n");

        // The hook configured at both createRuntime and prestart: the second call adds nothing.
        Run again = hook(s, "--control", daemon.control.toString());
        assertThat(again.exit()).as(again.err()).isZero();
        assertThat(daemon.namespaces()).contains(nsid + " enforce 2 1\n");

        // A different policy for a namespace that already has one is refused, not appended.
        Run other = hook(state("creating", container.pid(), "\"dev.imans.policy\":\"appraise fowner=0\""),
                "--control", daemon.control.toString());
        assertThat(other.exit()).isEqualTo(1);
        assertThat(other.err()).contains("mount namespace " + nsid + " already has a different policy");
        assertThat(daemon.namespaces()).contains(nsid + " enforce 2 1\n");
    }

    @Test
    void anAnnotationOnOneLineAsPodmanPassesItKeepsEveryRule() throws Exception {
        daemon = new TestDaemon(false);
        String nsid = startContainerProcess();
        Run r = hook(state("creating", container.pid(),
                "\"dev.imans.policy\":\"appraise fsmagic=0x01021994; measure func=BPRM_CHECK\""),
                "--control", daemon.control.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(daemon.policy(nsid)).isEqualTo("appraise fsmagic=0x1021994 \nmeasure func=BPRM_CHECK \n");
    }

    /** A policy directory holding one policy, {@code strict}, of {@code text}. */
    private Path policyDirectory(String text) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("policies"));
        Files.writeString(dir.resolve("strict"), text);
        return dir;
    }

    @Test
    void aPolicyFileFromThePolicyDirectory() throws Exception {
        daemon = new TestDaemon(false);
        String nsid = startContainerProcess();
        Path dir = policyDirectory("# strict\nappraise func=FILE_CHECK fowner=0\n");
        Run r = hook(state("creating", container.pid(), "\"dev.imans.policy-file\":\"strict\""),
                "--control", daemon.control.toString(), "--policy-dir", dir.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(daemon.policy(nsid)).isEqualTo("appraise func=FILE_CHECK fowner=0 \n");
    }

    @Test
    void aBadPolicyFailsWithLineAndColumnAndRegistersNothing() throws Exception {
        daemon = new TestDaemon(false);
        startContainerProcess();
        Run r = hook(state("creating", container.pid(),
                "\"dev.imans.policy\":\"appraise fsmagic=0x01021994\\nappraise func=NOT_A_HOOK\""),
                "--control", daemon.control.toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("""
                imans oci-hook: container c1: annotation dev.imans.policy: line 2, column 10: unknown func "NOT_A_HOOK"
                imans oci-hook: container c1: invalid policy in annotation dev.imans.policy; the container is not started
                """);
        assertThat(daemon.namespaces()).isEqualTo("nsid mode rules processes\nhost enforce 0 -\n");
    }

    @Test
    void aPolicyWithoutRulesFails() throws Exception {
        daemon = new TestDaemon(false);
        startContainerProcess();
        Run r = hook(state("creating", container.pid(), "\"dev.imans.policy\":\"# nothing\\n\\n\""),
                "--control", daemon.control.toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("annotation dev.imans.policy: line 1, column 1: the policy has no rules")
                .contains("podman keeps only the first line of an annotation: separate rules with ';'")
                .contains("the container is not started");
    }

    @Test
    void withoutAPolicyNothingIsRegistered() throws Exception {
        daemon = new TestDaemon(false);
        startContainerProcess();
        Run r = hook(state("creating", container.pid(), "\"io.example/x\":\"y\""), "--control", daemon.control.toString());
        assertThat(r.exit()).isZero();
        assertThat(r.out() + r.err()).isEmpty();
        assertThat(daemon.namespaces()).isEqualTo("nsid mode rules processes\nhost enforce 0 -\n");
    }

    @Test
    void theDefaultPolicyCoversContainersWithoutAnnotations() throws Exception {
        daemon = new TestDaemon(false);
        String nsid = startContainerProcess();
        Path def = Files.writeString(tmp.resolve("default.policy"), "appraise fowner=0\n");
        Run r = hook(state("creating", container.pid(), ""), "--control", daemon.control.toString(),
                "--default-policy", def.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(daemon.policy(nsid)).isEqualTo("appraise fowner=0 \n");
    }

    @Test
    void optionsNotOnTheCommandLineComeFromTheConfigFileAndTheDaemonsControl() throws Exception {
        daemon = new TestDaemon(false);
        String nsid = startContainerProcess();
        Path dir = policyDirectory("appraise func=FILE_CHECK fowner=0\n");
        // The daemon's own control setting is where the hook finds it; the section holds the hook's options.
        Path conf = Files.writeString(tmp.resolve("imans.conf"), "control = " + daemon.control
                + "\nwatch-fs = tmpfs\n\n[oci-hook]\n# the hook's settings\npolicy-dir = " + dir
                + "\nno-absolute-policy-files = true\n");
        Run r = hook(state("creating", container.pid(), "\"dev.imans.policy-file\":\"strict\""), "--config",
                conf.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(daemon.policy(nsid)).isEqualTo("appraise func=FILE_CHECK fowner=0 \n");
        // no-absolute-policy-files = true from the file is in force.
        Run absolute = hook(state("creating", container.pid(), "\"dev.imans.policy-file\":\"" + dir.resolve("strict")
                + "\""), "--config", conf.toString());
        assertThat(absolute.exit()).isEqualTo(1);
        assertThat(absolute.err()).contains("absolute");
    }

    @Test
    void theCommandLineWinsOverTheSectionWhichWinsOverTheDaemonsControl() throws Exception {
        daemon = new TestDaemon(false);
        String nsid = startContainerProcess();
        Path none = tmp.resolve("no-daemon");
        Path conf = Files.writeString(tmp.resolve("imans.conf"), "control = " + none + "\n[oci-hook]\ncontrol = "
                + daemon.control + "\n");
        Run section = hook(state("creating", container.pid(), "\"dev.imans.policy\":\"appraise fowner=0\""),
                "--config", conf.toString());
        assertThat(section.exit()).as(section.err()).isZero();
        assertThat(daemon.policy(nsid)).isEqualTo("appraise fowner=0 \n");
        Run line = hook(state("creating", container.pid(), "\"dev.imans.policy\":\"appraise fowner=0\""),
                "--config", conf.toString(), "--control", none.toString());
        assertThat(line.exit()).isEqualTo(1);
        assertThat(line.err()).contains("no imans daemon serves " + none);
    }

    @Test
    void aBadConfigFileFailsTheHookSoTheContainerDoesNotStart() throws Exception {
        daemon = new TestDaemon(false);
        startContainerProcess();
        String s = state("creating", container.pid(), "\"dev.imans.policy\":\"appraise fowner=0\"");
        Path conf = tmp.resolve("imans.conf");
        Files.writeString(conf, "[oci-hook]\ncontrol = " + daemon.control + "\npolicy-directory = /etc/imans\n");
        Run unknown = hook(s, "--config", conf.toString());
        assertThat(unknown.exit()).isEqualTo(1);
        assertThat(unknown.err()).isEqualTo("imans oci-hook: " + conf + ": unknown setting 'policy-directory'; the"
                + " container is not started\n");
        // One container's state named in the file would give every container that pid.
        Files.writeString(conf, "[oci-hook]\ncontrol = " + daemon.control + "\nstate = /tmp/state.json\n");
        Run state = hook(s, "--config", conf.toString());
        assertThat(state.exit()).isEqualTo(1);
        assertThat(state.err()).contains(conf + ": unknown setting 'state'");
        Files.writeString(conf, "control = " + daemon.control + "\n[oci_hook]\n");
        Run section = hook(s, "--config", conf.toString());
        assertThat(section.exit()).isEqualTo(1);
        assertThat(section.err()).contains(conf + ":2: unknown section '[oci_hook]'");
        Files.writeString(conf, "[oci-hook]\ncontrol = " + daemon.control + "\nmemfd-noexec = perhaps\n");
        Run flag = hook(s, "--config", conf.toString());
        assertThat(flag.exit()).isEqualTo(1);
        assertThat(flag.err()).contains("Invalid value for option '--memfd-noexec'").contains("'perhaps'")
                .contains("the container is not started");
        Run missing = hook(s, "--config", tmp.resolve("absent.conf").toString(), "--control", daemon.control.toString());
        assertThat(missing.exit()).isEqualTo(1);
        assertThat(missing.err()).contains("absent.conf: no such file");
        assertThat(daemon.namespaces()).isEqualTo("nsid mode rules processes\nhost enforce 0 -\n");
    }

    @Test
    void poststopIsQuiet() throws Exception {
        Run r = hook(state("stopped", null, "\"dev.imans.policy\":\"appraise fowner=0\""),
                "--control", tmp.resolve("no-daemon").toString());
        assertThat(r.exit()).isZero();
        assertThat(r.out() + r.err()).isEmpty();
    }

    @Test
    void noDaemonFailsClearly() throws Exception {
        startContainerProcess();
        Path none = tmp.resolve("no-daemon");
        Run r = hook(state("creating", container.pid(), "\"dev.imans.policy\":\"appraise fowner=0\""),
                "--control", none.toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).endsWith("note: programs executed from a memfd (memfd_create) are not seen by fanotify:"
                + " they live on the kernel's internal tmpfs, which it cannot mark; the daemon judges their execs with"
                + " its exec guard (a BPF program) where the kernel takes it, else sysctl vm.memfd_noexec=2 (per pid"
                + " namespace) makes the kernel refuse them\n"
                + "imans oci-hook: container c1: no imans daemon serves " + none + " ("
                + none.resolve("namespaces") + " does not exist); start one with 'imans daemon --control " + none
                + "'\n");
    }

    @Test
    void aPidInTheHooksOwnNamespaceMeansTheWrongStage() throws Exception {
        daemon = new TestDaemon(false);
        Run r = hook(state("creating", ProcessHandle.current().pid(), "\"dev.imans.policy\":\"appraise fowner=0\""),
                "--control", daemon.control.toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("is in the hook's own mount namespace").contains("run it at createRuntime");
    }

    @Test
    void unusableStatesFail() throws Exception {
        Run garbage = hook("{\"ociVersion\":\"1\",}");
        assertThat(garbage.exit()).isEqualTo(1);
        assertThat(garbage.err()).contains("is not valid: line 1, column 19: unexpected '}', expected a member name");
        Run noPid = hook(state("creating", null, "\"dev.imans.policy\":\"appraise fowner=0\""));
        assertThat(noPid.exit()).isEqualTo(1);
        assertThat(noPid.err()).contains("the state (status \"creating\") has no pid");
        Run empty = hook("");
        assertThat(empty.exit()).isEqualTo(1);
        assertThat(empty.err()).contains("no OCI state on");
    }

    /** A process in new mount and pid namespaces ({@code unshare -m -p -f}): the pid of unshare's child. */
    long startContainerInItsOwnPidNamespace() throws Exception {
        container = new ProcessBuilder("unshare", "-m", "-p", "-f", "--propagation", "private", "sleep", "60").start();
        Path children = Path.of("/proc", Long.toString(container.pid()), "task", Long.toString(container.pid()),
                "children");
        Instant deadline = Instant.now().plus(Duration.ofSeconds(10));
        while (true) {
            String c = Files.exists(children) ? Files.readString(children).strip() : "";
            if (!c.isEmpty()) {
                long child = Long.parseLong(c.split(" ")[0]);
                Path link = Path.of("/proc", Long.toString(child), "ns", "pid");
                if (!Files.readSymbolicLink(link).equals(Files.readSymbolicLink(Path.of("/proc/self/ns/pid")))
                        && Files.readString(Path.of("/proc", Long.toString(child), "comm")).strip().equals("sleep")) {
                    return child;
                }
            }
            assertThat(Instant.now()).as("unshare -p").isBefore(deadline);
            Thread.sleep(20);
        }
    }

    private static String sh(String script) throws Exception {
        Process p = new ProcessBuilder("sh", "-c", script).redirectErrorStream(true).start();
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        return new String(p.getInputStream().readAllBytes()).strip();
    }

    /** The hook for a container whose policy annotation is {@code policy}, with the daemon's control and {@code options}. */
    private Run hookWithPolicy(long pid, String policy, String... options) throws Exception {
        List<String> args = new java.util.ArrayList<>(List.of("--control", daemon.control.toString()));
        args.addAll(List.of(options));
        return hook(state("creating", pid, "\"dev.imans.policy\":\"" + policy + "\""), args.toArray(String[]::new));
    }

    private static String hostMemfdNoexec() throws Exception {
        return Files.readString(Path.of("/proc/sys/vm/memfd_noexec")).strip();
    }

    /** {@code vm.memfd_noexec} as the pid namespace of {@code pid} has it. */
    private static String memfdNoexecOf(long pid) throws Exception {
        return sh("nsenter -t " + pid + " -p -- cat /proc/sys/vm/memfd_noexec");
    }

    @Test
    void memfdNoexecIsSetInTheContainersOwnPidNamespaceOnly() throws Exception {
        daemon = new TestDaemon(false);
        long pid = startContainerInItsOwnPidNamespace();
        String host = hostMemfdNoexec();
        Run r = hookWithPolicy(pid, "appraise fsmagic=0x01021994", "--memfd-noexec");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(memfdNoexecOf(pid)).isEqualTo("2");
        assertThat(hostMemfdNoexec()).isEqualTo(host);
    }

    @Test
    void memfdNoexecIsRefusedForAContainerInTheHooksPidNamespace() throws Exception {
        daemon = new TestDaemon(false);
        startContainerProcess();
        Run r = hookWithPolicy(container.pid(), "appraise func=BPRM_CHECK", "--memfd-noexec");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("shares the hook's pid namespace");
    }

    @Test
    void memfdNoexecIsLeftAloneForAPolicyThatCannotCoverMemfds() throws Exception {
        daemon = new TestDaemon(false);
        startContainerProcess();
        Run r = hookWithPolicy(container.pid(), "appraise fsmagic=0xef53", "--memfd-noexec");
        assertThat(r.exit()).as(r.err()).isZero();
    }

    private static final String MEMFD_EXEC = "python3 -c 'import os; fd = os.memfd_create(\"x\"); os.write(fd,"
            + " open(\"/bin/echo\", \"rb\").read()); os.execve(fd, [\"echo\", \"ran\"], {})' 2>&1";

    @Test
    void byDefaultMemfdExecsFailInAContainerWhosePolicyMayAppraiseThem() throws Exception {
        daemon = new TestDaemon(false);
        long pid = startContainerInItsOwnPidNamespace();
        String host = hostMemfdNoexec();
        Run r = hookWithPolicy(pid, "appraise fsmagic=0x01021994");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(memfdNoexecOf(pid)).isEqualTo("2");
        assertThat(sh("nsenter -t " + pid + " -p -- " + MEMFD_EXEC)).contains("Permission denied");
        assertThat(hostMemfdNoexec()).isEqualTo(host);
        if (host.equals("0")) {
            assertThat(sh(MEMFD_EXEC)).as("the host's own memfd execs").isEqualTo("ran");
        }
    }

    @Test
    void byDefaultMemfdExecsAreLeftAloneWhereTheKernelWouldNotAppraiseThem() throws Exception {
        daemon = new TestDaemon(false);
        String host = hostMemfdNoexec();
        // tmpfs excluded first, as in the kernel's own tcb policies; and a measure-only policy.
        for (String policy : List.of("dont_appraise fsmagic=0x01021994;appraise func=BPRM_CHECK",
                "measure func=BPRM_CHECK")) {
            long pid = startContainerInItsOwnPidNamespace();
            Run r = hookWithPolicy(pid, policy);
            assertThat(r.exit()).as(r.err()).isZero();
            assertThat(memfdNoexecOf(pid)).as(policy).isEqualTo(host);
            container.destroyForcibly();
            container.waitFor(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void byDefaultAContainerInTheHooksPidNamespaceStartsWithANote() throws Exception {
        daemon = new TestDaemon(false);
        startContainerProcess();
        Run r = hookWithPolicy(container.pid(), "appraise func=BPRM_CHECK");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.err()).contains("note: the container shares the hook's pid namespace")
                .contains("programs executed from a memfd run unjudged in this container");
    }

    @Test
    void memfdNoexecOffLeavesItAlone() throws Exception {
        daemon = new TestDaemon(false);
        long pid = startContainerInItsOwnPidNamespace();
        String host = hostMemfdNoexec();
        Run r = hookWithPolicy(pid, "appraise fsmagic=0x01021994", "--memfd-noexec=off");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(memfdNoexecOf(pid)).isEqualTo(host);
    }
}
