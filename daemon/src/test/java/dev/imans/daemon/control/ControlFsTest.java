package dev.imans.daemon.control;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imans.daemon.Daemon;
import dev.imans.daemon.DaemonConfig;
import dev.imans.daemon.Log;
import dev.imans.daemon.Shell;
import dev.imans.daemon.ns.PolicyAuditLog;
import dev.imans.ns.AppraiseSetting;
import java.io.ByteArrayOutputStream;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The control filesystem for real: a daemon in this JVM, a FUSE mount in a temporary directory,
 * shells and namespaces made with unshare. Needs root and /dev/fuse.
 */
class ControlFsTest {
    static final String SEED_SHOWN = "appraise fsmagic=0x1021994 fowner=71452 \nappraise func=MODULE_CHECK \n";

    @TempDir
    Path tmp;

    Path ima;
    Path state;
    Path audit;
    Daemon daemon;
    PolicyAuditLog auditLog;
    final List<Process> processes = new ArrayList<>();

    @BeforeEach
    void start() throws IOException {
        ima = tmp.resolve("run/ima");
        state = tmp.resolve("state");
        audit = tmp.resolve("audit.log");
        startDaemon(AppraiseSetting.ENFORCE);
    }

    void startDaemon(AppraiseSetting mode) throws IOException {
        auditLog = PolicyAuditLog.open(audit);
        daemon = Daemon.start(new DaemonConfig(ima, false, state, Optional.of(audit), mode), auditLog);
    }

    void stopDaemon() throws IOException {
        daemon.close();
        auditLog.close();
        daemon = null;
    }

    @AfterEach
    void stop() throws IOException, InterruptedException {
        for (Process p : processes) {
            p.destroyForcibly();
            p.waitFor(5, TimeUnit.SECONDS);
        }
        if (daemon != null) {
            stopDaemon();
        }
        Shell.forceUnmount(ima);
        assertThat(Shell.isMounted(ima)).isFalse();
    }

    Shell.Result sh(String script) throws IOException, InterruptedException {
        return Shell.sh(script, Map.of("IMA", ima.toString()));
    }

    Shell.Result bash(String script) throws IOException, InterruptedException {
        return Shell.bash(script, Map.of("IMA", ima.toString()));
    }

    /** A process in a fresh mount namespace (unshare -m sleep 60); returns its namespace id. */
    String newNamespace() throws IOException, InterruptedException {
        Process p = Shell.start("unshare", "-m", "sleep", "60");
        processes.add(p);
        String own = Files.readSymbolicLink(Path.of("/proc/self/ns/mnt")).toString();
        Instant deadline = Instant.now().plusSeconds(10);
        while (Instant.now().isBefore(deadline)) {
            try {
                String link = Files.readSymbolicLink(Path.of("/proc", Long.toString(p.pid()), "ns", "mnt")).toString();
                if (!link.equals(own)) {
                    return link.substring(5, link.length() - 1);
                }
            } catch (IOException notYet) {
                // unshare has not exec'd yet
            }
            Thread.sleep(20);
        }
        throw new AssertionError("unshare -m did not enter a new mount namespace");
    }

    static void waitFor(String what, Duration limit, java.util.function.BooleanSupplier condition)
            throws InterruptedException {
        Instant deadline = Instant.now().plus(limit);
        while (!condition.getAsBoolean()) {
            if (Instant.now().isAfter(deadline)) {
                throw new AssertionError(what + " did not happen within " + limit);
            }
            Thread.sleep(50);
        }
    }

    @Test
    void looksLikeSecurityfsIma() throws Exception {
        Shell.Result r = sh("cd \"$IMA\" && stat -c '%n %a %U %G' namespaces policy ascii_runtime_measurements "
                + "binary_runtime_measurements runtime_measurements_count violations "
                + "&& cat runtime_measurements_count violations && wc -c < ascii_runtime_measurements "
                + "&& wc -c < binary_runtime_measurements && wc -c < policy");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).isEqualTo("""
                namespaces 200 root root
                policy 600 root root
                ascii_runtime_measurements 440 root root
                binary_runtime_measurements 440 root root
                runtime_measurements_count 440 root root
                violations 440 root root
                1
                0
                138
                101
                0
                """);
        Shell.Result read = sh("cat \"$IMA/namespaces\"");
        assertThat(read.exit()).isNotZero();
        assertThat(read.err()).contains("Permission denied");
        Shell.Result mk = sh("mkdir \"$IMA/x\"; touch \"$IMA/y\"; rm \"$IMA/policy\"");
        assertThat(mk.err()).contains("mkdir: cannot create directory").contains("touch: cannot touch")
                .contains("rm: cannot remove");
        assertThat(Files.exists(ima.resolve("policy"))).isTrue();
    }

    @Test
    void seedPrintfRegistersAndSetsANamespacePolicy() throws Exception {
        String ns = newNamespace();
        Shell.Result reg = sh("echo " + ns + " > \"$IMA/namespaces\"");
        assertThat(reg.exit()).as(reg.toString()).isZero();
        assertThat(ima.resolve(ns)).isDirectory();
        assertThat(ima.resolve(ns).resolve("policy")).exists();
        assertThat(Files.readString(ima.resolve(ns).resolve("runtime_measurements_count"))).isEqualTo("1\n");
        assertThat(Files.readString(ima.resolve(ns).resolve("policy"))).isEmpty();

        Shell.Result pol = sh("user=71452; TMPFS_MAGIC=0x01021994; printf \"appraise fsmagic=$TMPFS_MAGIC "
                + "fowner=$user\\nappraise func=MODULE_CHECK\" > \"$IMA/" + ns + "/policy\"");
        assertThat(pol.exit()).as(pol.toString()).isZero();
        assertThat(sh("cat \"$IMA/" + ns + "/policy\"").out()).isEqualTo(SEED_SHOWN);
        assertThat(Files.readString(ima.resolve(".imans/namespaces")))
                .isEqualTo("nsid mode rules processes\nhost enforce 0 -\n" + ns + " enforce 2 1\n");
        assertThat(Files.readString(audit)).contains("op=\"policy_update\" cause=\"completed\"").contains("res=1");

        // Registering again is a no-op success, as in the patches.
        assertThat(sh("echo " + ns + " > \"$IMA/namespaces\"").exit()).isZero();
        assertThat(sh("cat \"$IMA/" + ns + "/policy\"").out()).isEqualTo(SEED_SHOWN);
    }

    /** Checks a policy session committed: it has, when the writer's close returned. */
    static void committed(Path policy, String text) throws IOException {
        assertThat(Files.readString(policy)).as("a policy commit with " + text).contains(text);
    }

    @Test
    void rulesImansCannotEnforceAreLoggedAndListedInImansWarnings() throws Exception {
        assertThat(Files.readString(ima.resolve(".imans/warnings"))).isEmpty();
        List<String> host = dev.imans.linux.Lsms.active().orElseThrow();
        String lsmReason = host.contains("apparmor") ? "subj_role= is an LSM condition the kernel's apparmor judges"
                : "subj_role= is an LSM condition no active LSM (" + String.join(",", host) + ") can judge";
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        PrintStream before = Log.redirect(new PrintStream(log, true, StandardCharsets.UTF_8));
        String ns;
        try {
            Shell.Result w = sh("printf 'appraise fsmagic=0x01021994\\nmeasure func=MMAP_CHECK\\n"
                    + "measure subj_role=unconfined\\n' > \"$IMA/policy\"");
            assertThat(w.exit()).as(w.toString()).isZero();
            committed(ima.resolve("policy"), "subj_role");
            ns = newNamespace();
            assertThat(sh("echo " + ns + " > \"$IMA/namespaces\"").exit()).isZero();
            assertThat(sh("echo 'appraise func=CREDS_CHECK' > \"$IMA/" + ns + "/policy\"").exit()).isZero();
            committed(ima.resolve(ns).resolve("policy"), "CREDS_CHECK");
        } finally {
            Log.redirect(before);
        }
        assertThat(Files.readString(ima.resolve(".imans/warnings")).lines().toList()).satisfiesExactly(
                l -> assertThat(l).startsWith("host: measure func=MMAP_CHECK: func=MMAP_CHECK is not enforceable"),
                l -> assertThat(l).startsWith("host: measure subj_role=unconfined: " + lsmReason),
                // This fixture has no enforcement, so no mark on the kernel's internal tmpfs either.
                l -> assertThat(l).startsWith("host: appraise fsmagic=0x1021994: programs executed from a memfd"),
                l -> assertThat(l).startsWith("namespace " + ns + ": appraise func=CREDS_CHECK: func=CREDS_CHECK is"
                        + " not enforceable from userspace"));
        assertThat(log.toString(StandardCharsets.UTF_8))
                .contains("warn: host rule \"measure func=MMAP_CHECK\" is not enforced as written: func=MMAP_CHECK")
                .contains("warn: host rule \"measure subj_role=unconfined\" is not enforced as written: " + lsmReason)
                .contains("warn: namespace " + ns + " rule \"appraise func=CREDS_CHECK\" is not enforced as written")
                .doesNotContain("fsmagic=0x1021994\" is not enforced")
                .contains("warn: host policy misses files imans cannot see: appraise fsmagic=0x1021994: programs"
                        + " executed from a memfd");
    }

    @Test
    void aRejectedPolicyFailsTheWriterWithEinvalAndLeavesTheOldOne() throws Exception {
        assertThat(sh("printf 'measure func=BPRM_CHECK' > \"$IMA/policy\"").exit()).isZero();
        Shell.Result bad = bash("printf 'appraise func=FILE_CHECK\\nappraise fowner=12 bogus=1\\n' > \"$IMA/policy\"");
        assertThat(bad.exit()).isNotZero();
        assertThat(bad.err()).contains("Invalid argument");
        assertThat(Files.readString(ima.resolve("policy"))).isEqualTo("measure func=BPRM_CHECK \n");
        assertThat(Files.readString(ima.resolve(".imans/last_error")))
                .contains("host: line 2, column 20: ").contains("bogus=1");
        assertThat(Files.readString(audit)).contains("op=\"update_policy\" cause=\"invalid-policy\"")
                .contains("op=\"policy_update\" cause=\"failed\"");
        // A bad last line without a newline fails at the close, which cat reports (shells ignore a
        // redirection's close); so does an empty session, silently for the writer as in the kernel.
        Shell.Result nope = sh("printf 'measure func=BPRM_CHECK\\nmeasure func=NOPE' | cat > \"$IMA/policy\"");
        assertThat(nope.exit()).isNotZero();
        assertThat(nope.err()).contains("Invalid argument");
        assertThat(Files.readString(ima.resolve(".imans/last_error"))).contains("host: line 2, column 9: ");
        sh(": > \"$IMA/policy\"");
        assertThat(Files.readString(ima.resolve("policy"))).isEqualTo("measure func=BPRM_CHECK \n");
        // Accepted rules append.
        assertThat(sh("echo 'dont_measure fsmagic=0x9fa0' > \"$IMA/policy\"").exit()).isZero();
        assertThat(Files.readString(ima.resolve("policy")))
                .isEqualTo("measure func=BPRM_CHECK \ndont_measure fsmagic=0x9fa0 \n");
    }

    @Test
    void aSecondWriterGetsEbusy() throws Exception {
        try (FileOutputStream held = new FileOutputStream(ima.resolve("policy").toFile())) {
            Shell.Result r = bash("echo 'measure func=BPRM_CHECK' > \"$IMA/policy\"");
            assertThat(r.exit()).isNotZero();
            assertThat(r.err()).contains("Device or resource busy");
            held.write("measure func=FILE_CHECK\n".getBytes());
        }
        assertThat(Files.readString(ima.resolve("policy"))).isEqualTo("measure func=FILE_CHECK \n");
        // Readers are not writers.
        Shell.Result both = sh("exec 3< \"$IMA/policy\"; echo 'measure func=BPRM_CHECK' > \"$IMA/policy\" && cat <&3");
        assertThat(both.exit()).as(both.toString()).isZero();
    }

    @Test
    void aProcessInAChildUserNamespaceMayNotWrite() throws Exception {
        String ns = newNamespace();
        Shell.Result pol = sh("unshare -U -r sh -c 'echo measure func=BPRM_CHECK > \"$IMA/policy\"'");
        assertThat(pol.exit()).isNotZero();
        assertThat(pol.err()).contains("Operation not permitted");
        Shell.Result reg = sh("unshare -U -r sh -c 'echo " + ns + " > \"$IMA/namespaces\"'");
        assertThat(reg.exit()).isNotZero();
        assertThat(reg.err()).contains("Operation not permitted");
        Shell.Result read = sh("unshare -U -r cat \"$IMA/policy\"");
        assertThat(read.err()).contains("Operation not permitted");
        assertThat(ima.resolve(ns)).doesNotExist();
        assertThat(Files.readString(ima.resolve("policy"))).isEmpty();
        // Measurement files are readable by mode bits alone, as in securityfs.
        assertThat(sh("unshare -U -r cat \"$IMA/violations\"").out()).isEqualTo("0\n");
    }

    @Test
    void idsWithoutAProcessOrTheHostsOwnAreRefused() throws Exception {
        Shell.Result none = bash("echo 4026599999 > \"$IMA/namespaces\"");
        assertThat(none.err()).contains("No such file or directory");
        Shell.Result host = bash("readlink /proc/self/ns/mnt | cut -c 6-15 > \"$IMA/namespaces\"");
        assertThat(host.err()).contains("Invalid argument");
        Shell.Result junk = bash("echo hello > \"$IMA/namespaces\"");
        assertThat(junk.err()).contains("Invalid argument");
        assertThat(Files.readString(ima.resolve(".imans/namespaces"))).isEqualTo(
                "nsid mode rules processes\nhost enforce 0 -\n");
    }

    @Test
    void aNamespaceIsUnregisteredWhenItsLastProcessExits() throws Exception {
        String ns = newNamespace();
        assertThat(sh("echo " + ns + " > \"$IMA/namespaces\"").exit()).isZero();
        assertThat(ima.resolve(ns)).isDirectory();
        Process p = processes.getLast();
        p.destroy();
        assertThat(p.waitFor(5, TimeUnit.SECONDS)).isTrue();
        waitFor("unregistration of " + ns, Duration.ofSeconds(5), () -> !Files.exists(ima.resolve(ns)));
        assertThat(sh("ls \"$IMA\"").out()).doesNotContain(ns);
        assertThat(Files.readString(state.resolve("state"))).doesNotContain(ns);
    }

    @Test
    void aRestartRestoresLiveNamespacesWithTheirPolicyAndDropsDeadOnes() throws Exception {
        String live = newNamespace();
        Process liveProcess = processes.getLast();
        String dead = newNamespace();
        Process deadProcess = processes.getLast();
        assertThat(sh("echo " + live + " > \"$IMA/namespaces\" && echo " + dead + " > \"$IMA/namespaces\"").exit())
                .isZero();
        assertThat(sh("printf 'appraise fsmagic=0x01021994 fowner=71452\\nappraise func=MODULE_CHECK' > \"$IMA/"
                + live + "/policy\" && printf 'measure func=BPRM_CHECK' > \"$IMA/policy\"").exit()).isZero();
        stopDaemon();
        assertThat(Shell.isMounted(ima)).isFalse();
        deadProcess.destroy();
        assertThat(deadProcess.waitFor(5, TimeUnit.SECONDS)).isTrue();

        startDaemon(AppraiseSetting.ENFORCE_NS);
        assertThat(Files.readString(ima.resolve(live).resolve("policy"))).isEqualTo(SEED_SHOWN);
        assertThat(Files.readString(ima.resolve("policy"))).isEqualTo("measure func=BPRM_CHECK \n");
        assertThat(ima.resolve(dead)).doesNotExist();
        assertThat(Files.readString(state.resolve("state"))).contains("namespace " + live).doesNotContain(dead);
        assertThat(Files.readString(ima.resolve(".imans/namespaces")))
                .isEqualTo("nsid mode rules processes\nhost enforce 1 -\n" + live + " enforce 2 1\n");
        assertThat(liveProcess.isAlive()).isTrue();
    }

    @Test
    void enforceNsShowsFixUntilTheFirstCommit() throws Exception {
        stopDaemon();
        startDaemon(AppraiseSetting.ENFORCE_NS);
        String ns = newNamespace();
        sh("echo " + ns + " > \"$IMA/namespaces\"");
        assertThat(Files.readString(ima.resolve(".imans/namespaces"))).contains(ns + " fix 0 1\n");
        assertThat(sh("echo 'appraise func=FILE_CHECK' > \"$IMA/" + ns + "/policy\"").exit()).isZero();
        assertThat(Files.readString(ima.resolve(".imans/namespaces"))).contains(ns + " enforce 1 1\n");
    }

    @Test
    void theSeedsShellLinesWorkVerbatimInsideUnshare() throws Exception {
        Path sensitive = Path.of("/tmp/foo");
        boolean existed = Files.exists(sensitive);
        // The seed's lines up to the policy write, with /sys/kernel/security/ima replaced by $IMA and
        // the interactive "unshare -m" turned into running the rest inside it.
        String seed = """
                sensitive=/tmp/foo
                user=71452
                mkdir -p $(dirname $sensitive) && echo "hello" > $sensitive
                chown $user $sensitive
                """;
        String inside = """
                set -e
                # enable per-ns policy for this new namespace
                nsid=$(readlink /proc/self/ns/mnt | cut -c '6-15')
                echo ${nsid} > $IMA/namespaces
                # set the policy (we use tmpfs magic here since that's all that linuxkit
                # has available to write to for this example)
                TMPFS_MAGIC=0x01021994
                user=71452
                printf "appraise fsmagic=$TMPFS_MAGIC fowner=$user\\nappraise func=MODULE_CHECK" > $IMA/$nsid/policy
                cat $IMA/$nsid/policy
                """;
        try {
            Shell.Result r = sh("set -e\n" + seed + "unshare -m sh -c '" + inside.replace("'", "'\\''") + "'");
            assertThat(r.exit()).as(r.toString()).isZero();
            assertThat(r.out()).isEqualTo(SEED_SHOWN);
        } finally {
            if (!existed) {
                Files.deleteIfExists(sensitive);
            }
        }
    }
    /** {@code n} distinct valid rules, one per line. */
    static String rules(int n) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < n; i++) {
            b.append("appraise fsmagic=0x01021994 fowner=").append(i).append('\n');
        }
        return b.toString();
    }

    @Test
    void aHundredThousandRulePolicyLoadsThroughCatInWellUnderASecond() throws Exception {
        String text = rules(100_000);
        Path file = tmp.resolve("big.policy");
        Files.writeString(file, text);
        long start = System.nanoTime();
        Shell.Result r = sh("cat " + file + " > \"$IMA/policy\"");
        long ms = (System.nanoTime() - start) / 1_000_000;
        System.out.println("ControlFsTest: cat of 100000 rules (" + text.length() + " bytes) into policy took "
                + ms + " ms (sh and cat included)");
        assertThat(r.exit()).as(r.toString()).isZero();
        // Generous: the machine is loaded and shared; unloaded it takes a few hundred ms.
        assertThat(ms).isLessThan(5_000);
        assertThat(Files.readString(ima.resolve(".imans/namespaces"))).contains("host enforce 100000 -\n");
        assertThat(sh("wc -l < \"$IMA/policy\"").out().strip()).isEqualTo("100000");
        assertThat(Files.readString(ima.resolve("policy")))
                .isEqualTo(dev.imans.policy.PolicyParser.parse(text).show());
        System.gc();
        Runtime rt = Runtime.getRuntime();
        System.out.println("ControlFsTest: heap in use after the load and a GC (test JVM, daemon included) "
                + (rt.totalMemory() - rt.freeMemory()) / (1 << 20) + " MiB");
    }

    @Test
    void aRuleCutByAWriteBoundaryIsParsedWhole() throws Exception {
        // Pad so that the byte at each boundary writers cut at (cat's 128 KiB buffer, dd's blocks,
        // FUSE's max_write) falls between the "1" and the "2" of "fowner=12": "fowner=1" alone is a
        // valid rule too, so a split would commit a different policy, not only fail.
        for (String writer : List.of("cat %s", "dd if=%s bs=4096 status=none", "dd if=%s bs=131072 status=none",
                "dd if=%s bs=1048576 status=none")) {
            String ns = newNamespace();
            assertThat(sh("echo " + ns + " > \"$IMA/namespaces\"").exit()).isZero();
            StringBuilder text = new StringBuilder();
            int block = writer.contains("bs=4096") ? 4096 : writer.contains("bs=1048576") ? 1 << 20 : 131072;
            String rule = "appraise fsmagic=0x01021994 fowner=12\n";
            String filler = "measure func=BPRM_CHECK\n";
            int cuts = 0;
            while (text.length() < 300_000 || cuts < 2) {
                int next = (text.length() / block + 1) * block;
                // Where the "2" of the rule would start if the rule began now.
                int two = text.length() + rule.indexOf("12") + 1;
                if (two == next) {
                    text.append(rule);
                    cuts++;
                } else if (next - two >= filler.length() || next - two < 0) {
                    text.append(filler);
                } else {
                    text.append("#".repeat(next - two - 1)).append('\n');
                }
            }
            Path file = tmp.resolve("cut.policy");
            Files.writeString(file, text);
            Shell.Result r = sh(String.format(writer, file) + " > \"$IMA/" + ns + "/policy\"");
            assertThat(r.exit()).as(writer + ": " + r).isZero();
            String shown = Files.readString(ima.resolve(ns).resolve("policy"));
            assertThat(shown).as(writer).isEqualTo(dev.imans.policy.PolicyParser.parse(text.toString()).show());
            assertThat(shown).as(writer).contains("fowner=12 ").doesNotContain("fowner=1 ");
        }
        // And one write(2) of 3 MiB, which the kernel itself splits at FUSE's max_write.
        String ns = newNamespace();
        assertThat(sh("echo " + ns + " > \"$IMA/namespaces\"").exit()).isZero();
        String text = rules(80_000);
        try (FileOutputStream out = new FileOutputStream(ima.resolve(ns).resolve("policy").toFile())) {
            out.write(text.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        }
        assertThat(Files.readString(ima.resolve(ns).resolve("policy")))
                .isEqualTo(dev.imans.policy.PolicyParser.parse(text).show());
    }

    @Test
    void aBadRuleDeepInALargePolicyIsReportedByItsLineAndTheOldPolicyStays() throws Exception {
        assertThat(sh("printf 'measure func=BPRM_CHECK\\n' > \"$IMA/policy\"").exit()).isZero();
        String good = rules(100_000);
        int at = 0;
        for (int i = 1; i < 50_000; i++) {
            at = good.indexOf('\n', at) + 1;
        }
        Path file = tmp.resolve("bad.policy");
        Files.writeString(file, good.substring(0, at) + "appraise fowner=1 nonsense=2\n" + good.substring(at));
        Shell.Result r = sh("cat " + file + " > \"$IMA/policy\"");
        assertThat(r.exit()).isNotZero();
        assertThat(r.err()).contains("Invalid argument");
        assertThat(Files.readString(ima.resolve(".imans/last_error")))
                .contains("host: line 50000, column 19: ").contains("nonsense=2");
        assertThat(Files.readString(ima.resolve("policy"))).isEqualTo("measure func=BPRM_CHECK \n");
        assertThat(Files.readString(audit)).contains("op=\"policy_update\" cause=\"failed\"");
    }

    @Test
    void aChangeThatCannotBePutInForceFailsTheWritersCloseOrWriteWithEio() throws Exception {
        java.util.concurrent.atomic.AtomicBoolean broken = new java.util.concurrent.atomic.AtomicBoolean(true);
        daemon.namespaces().addChangeListener(() -> {
            if (broken.get()) {
                throw new IllegalStateException("injected listener failure");
            }
        });
        // cat reports its close's error; the rules are committed, but the writer must not rely on them.
        Shell.Result policy = sh("printf 'measure func=BPRM_CHECK\\n' | cat > \"$IMA/policy\"");
        assertThat(policy.exit()).isNotZero();
        assertThat(policy.err()).contains("Input/output error");
        assertThat(Files.readString(ima.resolve(".imans/last_error")))
                .contains("host: 1 rule(s) committed, but putting it in force failed")
                .contains("injected listener failure");
        String ns = newNamespace();
        Shell.Result reg = bash("echo " + ns + " > \"$IMA/namespaces\"");
        assertThat(reg.exit()).isNotZero();
        assertThat(reg.err()).contains("Input/output error");
        assertThat(Files.readString(ima.resolve(".imans/last_error")))
                .contains("namespace " + ns + ": registered, but putting it in force failed");
        broken.set(false);
        Shell.Result ok = sh("printf 'measure func=FILE_CHECK\\n' | cat > \"$IMA/policy\"");
        assertThat(ok.exit()).as(ok.toString()).isZero();
        assertThat(Files.readString(ima.resolve("policy")))
                .isEqualTo("measure func=BPRM_CHECK \nmeasure func=FILE_CHECK \n");
    }

    @Test
    void rulesAreCommittedAtEachCloseAndADescriptorLeftOpenCommitsItsLaterRules() throws Exception {
        // fd 3 stays open in the shell while a child's copy is closed: the child's close commits
        // what was written so far; later lines commit at the shell's own close.
        Shell.Result r = bash("exec 3> \"$IMA/policy\"; printf 'measure func=BPRM_CHECK\\n' >&3;"
                + " sh -c 'exec 3>&-'; cat \"$IMA/policy\"; echo ---; printf 'measure func=FILE_CHECK' >&3;"
                + " exec 3>&-; cat \"$IMA/policy\"");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).isEqualTo("measure func=BPRM_CHECK \n---\nmeasure func=BPRM_CHECK \nmeasure func=FILE_CHECK \n");
    }
}
