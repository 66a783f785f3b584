package dev.imans.daemon.enforce;

import static dev.imans.daemon.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.imans.audit.AuditFormat;
import dev.imans.daemon.fanotify.EngineMetrics;
import dev.imans.daemon.health.DegradedException;
import dev.imans.linux.Errno;
import dev.imans.linux.LinuxException;
import dev.imans.ns.AppraiseSetting;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Degradations are states, not log lines: shown in {@code .imans/health}, suspending ignore marks
 * where those could hide an open, and cleared by a retry once the cause is gone. Real daemon, real
 * namespaces, tmpfs and processes; a full state disk is real, a failing flush or mark is injected.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DegradedStateTest {
    private static final String TMPFS_POLICY = "appraise fsmagic=0x01021994\n";
    private static final String HELLO_SHA256 = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";

    private DaemonFixture daemon;
    private Path stateMount;

    @AfterEach
    void tearDown() throws Exception {
        if (daemon == null) {
            return;
        }
        if (stateMount != null) {
            // Stop first, so nothing writes there any more; the fixture then removes an empty directory.
            daemon.daemon.close();
            Run.run("umount", "-l", stateMount.toString());
        }
        daemon.close();
    }

    private String health() throws IOException {
        return Files.readString(daemon.control.resolve(".imans/health"));
    }

    private EngineMetrics engine() {
        return daemon.enforcement().engine().metrics();
    }

    private static void labelled(Namespace ns, String path) throws Exception {
        ns.shOk("echo hello > " + path + " && setfattr -n security.ima -v 0x0404" + HELLO_SHA256 + " " + path);
    }

    private static String read(Namespace ns, String path) throws Exception {
        return ns.shOk("cat " + path).out();
    }

    /** Checks the last policy write was committed (it is, when the writer's close returns). */
    private void policyInForce(Namespace ns, String rule) throws Exception {
        assertThat(Files.readString(daemon.control.resolve(ns.nsid + "/policy"))).contains(rule);
    }

    @Test
    void aFailedFlushKeepsEveryOpenJudgedUntilARetryDropsTheOldMarks() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Namespace ns = daemon.namespace(TMPFS_POLICY);
        policyInForce(ns, "appraise");
        assertThat(health()).isEqualTo("ok\n");
        labelled(ns, "/tmp/a");
        labelled(ns, "/tmp/b");
        assertThat(read(ns, "/tmp/a")).isEqualTo("hello\n");
        eventually(() -> assertThat(engine().ignoreMarksAdded()).isEqualTo(1));

        daemon.enforcement().flushFault = () -> {
            throw new LinuxException("fanotify_mark", Errno.EIO, "injected flush failure");
        };
        // The writer of the change is told: its close fails with EIO, and last_error says why.
        assertThatThrownBy(() -> daemon.policy(ns, "dont_appraise fsmagic=0x9fa0\n"))
                .isInstanceOf(IOException.class).hasMessageContaining("Input/output error");
        assertThat(Files.readString(daemon.control.resolve(".imans/last_error")))
                .contains("ignore marks of the previous policy could not be dropped");
        policyInForce(ns, "dont_appraise");
        eventually(() -> assertThat(health()).startsWith("ignore-marks-stale since ")
                .contains("cannot flush ignore marks", "injected flush failure"));
        assertThatThrownBy(() -> daemon.enforcement().policiesChanged()).isInstanceOf(DegradedException.class)
                .hasMessageContaining("ignore marks of the previous policy could not be dropped");

        // No new mark while the old ones may be stale: /tmp/b is judged at every open.
        long events = engine().events();
        assertThat(read(ns, "/tmp/b")).isEqualTo("hello\n");
        assertThat(read(ns, "/tmp/b")).isEqualTo("hello\n");
        assertThat(engine().events()).isGreaterThanOrEqualTo(events + 2);
        assertThat(engine().ignoreMarksAdded()).isEqualTo(1);

        daemon.enforcement().flushFault = () -> { };
        eventually(() -> assertThat(health()).isEqualTo("ok\n"));
        // The retry dropped /tmp/a's mark from the old policy: its next open is judged again.
        events = engine().events();
        assertThat(read(ns, "/tmp/a")).isEqualTo("hello\n");
        assertThat(engine().events()).isGreaterThan(events);
        eventually(() -> assertThat(engine().ignoreMarksAdded()).isGreaterThan(1));
    }

    @Test
    void aFailedUpdateOfTheExecGuardFailsTheWriteIsShownAndIsRetried() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        org.junit.jupiter.api.Assumptions.assumeTrue(daemon.enforcement().memfdFilesystem().execsGuarded());
        Namespace ns = daemon.namespace("measure func=BPRM_CHECK\n");
        daemon.enforcement().guardFault = () -> {
            throw new LinuxException("bpf(BPF_MAP_UPDATE_ELEM)", Errno.ENOMEM, "injected");
        };
        assertThatThrownBy(() -> daemon.policy(ns, "appraise func=BPRM_CHECK\n"))
                .isInstanceOf(IOException.class).hasMessageContaining("Input/output error");
        assertThat(Files.readString(daemon.control.resolve(".imans/last_error")))
                .contains("the exec guard's map (memfd execs) could not be updated");
        eventually(() -> assertThat(health()).startsWith("memfd-guard-stale since ").contains("injected"));

        daemon.enforcement().guardFault = () -> { };
        eventually(() -> assertThat(health()).isEqualTo("ok\n"));
        // The retry put the new policy in force for memfd execs: refused now.
        Run.Result r = ns.sh("python3 -c \"import os; fd=os.memfd_create('m'); os.write(fd, open('/bin/echo','rb')"
                + ".read()); os.execve(fd, ['echo','ran'], {})\"");
        assertThat(r.exit()).as(r.toString()).isEqualTo(128 + 9);
    }

    @Test
    void aFilesystemThatCannotBeMarkedIsShownAndMarkedAtALaterScan() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        daemon.enforcement().injectMarkFault(p -> p.toString().endsWith("/root/tmp"));
        Namespace ns = daemon.fresh();
        // The registration is made but not wholly in force: its writer is told (EIO).
        assertThatThrownBy(() -> daemon.register(ns)).isInstanceOf(IOException.class)
                .hasMessageContaining("Input/output error");
        assertThat(Files.readString(daemon.control.resolve(".imans/last_error")))
                .contains("namespace " + ns.nsid + ": registered, but putting it in force failed", "cannot mark");
        daemon.policy(ns, TMPFS_POLICY);
        policyInForce(ns, "appraise");
        ns.shOk("echo unlabelled > /tmp/u");
        String dev = ns.shOk("mountpoint -d /tmp").out().strip();
        eventually(() -> assertThat(health()).startsWith("filesystem-unmarked dev " + dev + " since ")
                .contains("cannot mark tmpfs /proc/" + ns.pid() + "/root/tmp", "ENODEV",
                        "its opens are not checked"));
        // The state says what is true: the unmarked filesystem's files are not checked.
        assertThat(read(ns, "/tmp/u")).isEqualTo("unlabelled\n");

        daemon.enforcement().injectMarkFault(p -> false);
        // The periodic re-scan retries it.
        eventually(() -> assertThat(health()).isEqualTo("ok\n"));
        Run.Result r = ns.sh("cat /tmp/u");
        assertThat(r.exit()).isNotZero();
        assertThat(r.err()).contains("Operation not permitted");
    }

    @Test
    void aStateJournalThatCannotBeSavedFailsTheRegistrationAndIsSavedOnceThereIsRoom() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE, Set.of(), AuditFormat.SEED, base -> {
            stateMount = base.resolve("state");
            Files.createDirectories(stateMount);
            try {
                Run.Result m = Run.run("mount", "-t", "tmpfs", "-o", "size=256k", "imans-test-state",
                        stateMount.toString());
                assertThat(m.exit()).as(m.err()).isZero();
            } catch (InterruptedException e) {
                throw new IOException(e);
            }
        });
        assertThat(health()).isEqualTo("ok\n");
        // Fill it for real: dd stops at ENOSPC.
        Run.run("dd", "if=/dev/zero", "of=" + stateMount.resolve("fill"), "bs=4k");
        Namespace ns = new Namespace();
        try {
            assertThatThrownBy(() -> daemon.register(ns)).isInstanceOf(IOException.class)
                    .hasMessageContaining("Input/output error");
            // The namespace's measurement list file could not be written either (it is retried the same way).
            assertThat(health().lines().toList()).satisfiesExactlyInAnyOrder(
                    l -> assertThat(l).startsWith("state-unsaved since ").contains("No space left on device"),
                    l -> assertThat(l).startsWith("measurements-unsaved namespace " + ns.nsid + " since ")
                            .contains("No space left on device"));
            // Not saved, but in force: the namespace is enforced.
            assertThat(Files.readString(daemon.control.resolve(".imans/namespaces"))).contains(ns.nsid + " ");
            // The policy too is in force though unsaved, and its writer is told (EIO at close).
            assertThatThrownBy(() -> daemon.policy(ns, TMPFS_POLICY)).isInstanceOf(IOException.class)
                    .hasMessageContaining("Input/output error");
            policyInForce(ns, "appraise");
            ns.shOk("echo unlabelled > /tmp/u");
            Run.Result r = ns.sh("cat /tmp/u");
            assertThat(r.err()).contains("Operation not permitted");
            assertThat(Files.readString(stateMount.resolve("state"))).doesNotContain("namespace " + ns.nsid);

            Files.delete(stateMount.resolve("fill"));
            eventually(() -> assertThat(health()).isEqualTo("ok\n"));
            assertThat(Files.readString(stateMount.resolve("state")))
                    .containsPattern("namespace " + ns.nsid + " id \\d+\n\tappraise fsmagic=");
            assertThat(stateMount.resolve("measurements/" + ns.nsid + ".list")).exists();
        } finally {
            ns.close();
        }
    }


}
