package dev.imans.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imans.daemon.Daemon;
import dev.imans.daemon.DaemonConfig;
import dev.imans.daemon.ns.PolicyUpdateListener;
import dev.imans.ns.AppraiseSetting;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code imans ns} and {@code imans policy load|show} against a real daemon and FUSE mount. Needs root. */
class ControlCommandsTest {
    @TempDir
    Path tmp;

    Daemon daemon;
    Process sleeper;

    record Run(int exit, String out, String err) {}

    static Run imans(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = new CommandLine(new ImansCommand()).setCaseInsensitiveEnumValuesAllowed(true)
                .setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true)).execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    Path startDaemon() throws IOException {
        Path ima = tmp.resolve("ima");
        daemon = Daemon.start(new DaemonConfig(ima, false, tmp.resolve("state"), Optional.empty(),
                AppraiseSetting.ENFORCE_NS), PolicyUpdateListener.NONE);
        return ima;
    }

    @AfterEach
    void stop() throws Exception {
        if (sleeper != null) {
            sleeper.destroyForcibly();
            sleeper.waitFor(5, TimeUnit.SECONDS);
        }
        if (daemon != null) {
            daemon.close();
        }
        Path ima = tmp.resolve("ima");
        if (Files.readString(Path.of("/proc/self/mountinfo")).contains(" " + ima + " ")) {
            new ProcessBuilder("umount", "-l", ima.toString()).start().waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void sayWhenNoDaemonRuns() {
        Run r = imans("ns", "list", "--control", tmp.resolve("nothing").toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("no imans daemon serves " + tmp.resolve("nothing"))
                .contains("imans daemon --control");
        assertThat(imans("policy", "show", "--control", tmp.toString()).err()).contains("no imans daemon serves");
    }

    @Test
    void registerLoadShowAndList() throws Exception {
        Path ima = startDaemon();
        String control = ima.toString();
        sleeper = new ProcessBuilder("unshare", "-m", "sleep", "60").start();
        String own = Files.readSymbolicLink(Path.of("/proc/self/ns/mnt")).toString();
        Path link = Path.of("/proc", Long.toString(sleeper.pid()), "ns", "mnt");
        Instant deadline = Instant.now().plus(Duration.ofSeconds(10));
        while (Files.readSymbolicLink(link).toString().equals(own)) {
            assertThat(Instant.now()).isBefore(deadline);
            Thread.sleep(20);
        }
        String nsid = Files.readSymbolicLink(link).toString().replaceAll("\\D", "");

        Run add = imans("ns", "add", Long.toString(sleeper.pid()), "--control", control);
        assertThat(add.exit()).as(add.err()).isZero();
        assertThat(add.out()).contains("registered mount namespace " + nsid);
        Run self = imans("ns", "add", "--self", "--control", control);
        assertThat(self.exit()).isEqualTo(1);
        assertThat(self.err()).contains("host's own mount namespace");
        Run none = imans("ns", "add", "--control", control);
        assertThat(none.exit()).isEqualTo(2);
        assertThat(none.err()).contains("Missing required argument", "PID", "--self");

        Path seed = tmp.resolve("seed.policy");
        Files.writeString(seed, "appraise fsmagic=0x01021994 fowner=71452\nappraise func=MODULE_CHECK\n");
        Run load = imans("policy", "load", "--ns", nsid, seed.toString(), "--control", control);
        assertThat(load.exit()).as(load.err()).isZero();
        Run show = imans("policy", "show", "--ns", nsid, "--control", control);
        assertThat(show.out()).isEqualTo("appraise fsmagic=0x1021994 fowner=71452 \nappraise func=MODULE_CHECK \n");

        Path comments = tmp.resolve("comments.policy");
        Files.writeString(comments, "# nothing here\n\n");
        Run empty = imans("policy", "load", comments.toString(), "--control", control);
        assertThat(empty.exit()).isEqualTo(1);
        assertThat(empty.err()).isEqualTo("imans policy load: " + comments
                + " holds no rules (only blank and comment lines); nothing loaded\n");

        Path bad = tmp.resolve("bad.policy");
        Files.writeString(bad, "measure func=BPRM_CHECK\nmeasure func=NOT_A_HOOK\n");
        Run rejected = imans("policy", "load", bad.toString(), "--control", control);
        assertThat(rejected.exit()).isEqualTo(1);
        assertThat(rejected.err()).contains("rejected " + bad).contains("line 2, column 9")
                .contains("the host policy is unchanged");
        assertThat(imans("policy", "show", "--control", control).out()).isEmpty();

        Run list = imans("ns", "list", "--control", control);
        assertThat(list.exit()).isZero();
        assertThat(list.out().lines().toList()).containsExactly(
                String.format("%-12s %-10s %6s %10s", "NSID", "MODE", "RULES", "PROCESSES"),
                String.format("%-12s %-10s %6s %10s", "host", "enforce", "0", "-"),
                String.format("%-12s %-10s %6s %10s", nsid, "enforce", "2", "1"));

        Run missing = imans("policy", "show", "--ns", "4026599999", "--control", control);
        assertThat(missing.err()).contains("namespace 4026599999 is not registered");
    }

    @Test
    void mountSecurityfsInAPrivateMountNamespaceAndStopOnSigterm() throws Exception {
        Path sys = Path.of("/sys/kernel/security");
        List<String> before = securityMounts();
        String java = ProcessHandle.current().info().command().orElseThrow();
        Path log = tmp.resolve("daemon.log");
        // The daemon and every mount it makes live in a private mount namespace that dies with it.
        Process d = new ProcessBuilder("unshare", "-m", "--propagation", "private", java,
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                "dev.imans.cli.Main", "daemon", "--control", tmp.resolve("ima").toString(), "--state",
                tmp.resolve("state").toString(), "--mount-securityfs", "--no-enforce", "--audit-log",
                tmp.resolve("audit.log").toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            String pid = Long.toString(d.pid());
            Instant deadline = Instant.now().plus(Duration.ofSeconds(30));
            while (!Files.readString(log).contains("ready:")) {
                assertThat(d.isAlive()).as(Files.readString(log)).isTrue();
                assertThat(Instant.now()).as("daemon readiness").isBefore(deadline);
                Thread.sleep(50);
            }
            String seed = """
                    set -e
                    ls /sys/kernel/security
                    unshare -m sh -c '
                      nsid=$(readlink /proc/self/ns/mnt | cut -c "6-15")
                      echo ${nsid} > /sys/kernel/security/ima/namespaces
                      printf "appraise fsmagic=0x01021994 fowner=71452\\nappraise func=MODULE_CHECK" > /sys/kernel/security/ima/$nsid/policy
                      cat /sys/kernel/security/ima/$nsid/policy'
                    """;
            Process p = new ProcessBuilder("nsenter", "-t", pid, "-m", "sh", "-c", seed).redirectErrorStream(true).start();
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            String out = new String(p.getInputStream().readAllBytes());
            assertThat(p.exitValue()).as(out).isZero();
            assertThat(out).contains("ima\n").contains("lsm\n")
                    .endsWith("appraise fsmagic=0x1021994 fowner=71452 \nappraise func=MODULE_CHECK \n");
            // Nothing of it is visible out here.
            assertThat(Files.exists(sys.resolve("ima"))).isFalse();

            new ProcessBuilder("kill", "-TERM", pid).start().waitFor(10, TimeUnit.SECONDS);
            assertThat(d.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(Files.readString(log)).contains("removed the control filesystem from /sys/kernel/security/ima")
                    .contains("stopped");
        } finally {
            d.destroyForcibly();
            d.waitFor(10, TimeUnit.SECONDS);
        }
        assertThat(securityMounts()).isEqualTo(before);
    }

    /** This namespace's mounts at or under /sys/kernel/security (other tests may mount elsewhere meanwhile). */
    private static List<String> securityMounts() throws IOException {
        return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                .filter(l -> l.split(" ")[4].startsWith("/sys/kernel/security"))
                .toList();
    }
}
