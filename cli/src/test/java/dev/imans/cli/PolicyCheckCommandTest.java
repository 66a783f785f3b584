package dev.imans.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code imans policy check} through {@link Main#run}, with real files and captured stdout/stderr. */
class PolicyCheckCommandTest {
    @TempDir
    Path dir;

    /** One run's exit code and output. */
    record Run(int code, String out, String err) {}

    private static synchronized Run run(InputStream stdin, String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        InputStream oldIn = System.in;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.ISO_8859_1));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            System.setIn(stdin);
            int code = Main.run(args);
            return new Run(code, out.toString(StandardCharsets.ISO_8859_1), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
            System.setIn(oldIn);
        }
    }

    private static Run run(String... args) {
        return run(new ByteArrayInputStream(new byte[0]), args);
    }

    private Path write(String name, String text) throws IOException {
        return Files.writeString(dir.resolve(name), text, StandardCharsets.ISO_8859_1);
    }

    @Test
    void seedPolicyIsAcceptedAndModuleCheckIsReportedNotEnforceable() {
        Path seed = seedPolicy();
        Run r = run("policy", "check", seed.toString());
        assertThat(r.code()).isZero();
        assertThat(r.out()).isEqualTo("appraise fsmagic=0x1021994 fowner=71452 \nappraise func=MODULE_CHECK \n");
        assertThat(r.err()).isEqualTo(seed + ":2:10: warning: func=MODULE_CHECK is not enforceable from userspace:"
                + " the kernel reads module files itself (kernel_read_file), with no permission event for userspace\n"
                + seed + ":1:1: note: programs executed from a memfd (memfd_create) are not seen by fanotify: they"
                + " live on the kernel's internal tmpfs, which it cannot mark; the daemon judges their execs with its"
                + " exec guard (a BPF program) where the kernel takes it, else sysctl vm.memfd_noexec=2 (per pid"
                + " namespace) makes the kernel refuse them\n");
    }

    /** The repository's examples/seed.policy, found from the module directory the tests run in. */
    private static Path seedPolicy() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path candidate = p.resolve("examples/seed.policy");
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        throw new AssertionError("examples/seed.policy not found above " + Path.of("").toAbsolutePath());
    }

    @Test
    void everyBadRuleIsReportedWithLineAndColumnAndNothingOnStdout() throws IOException {
        Path f = write("bad.policy", "# header\nmeasure func=BOGUS\nmeasure func=FILE_CHECK\n  measure uid=0 euid=0\n");
        Run r = run("policy", "check", f.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).isEqualTo(f + ":2:9: unknown func \"BOGUS\"\n"
                + f + ":4:17: duplicate uid/euid condition: uid and euid share one slot\n");
    }

    @Test
    void emptyPolicyIsRejected() throws IOException {
        Path f = write("empty.policy", "# nothing\n\n");
        Run r = run("policy", "check", f.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).contains(f + ":1:1: ").contains("the kernel rejects an empty policy");
    }

    @Test
    void readsStandardInput() {
        Run r = run(new ByteArrayInputStream("measure func=PATH_CHECK mask=^MAY_READ\n".getBytes(StandardCharsets.UTF_8)),
                "policy", "check", "-");
        assertThat(r.code()).isZero();
        assertThat(r.out()).isEqualTo("measure func=FILE_CHECK mask=^MAY_READ \n");
        assertThat(r.err()).isEmpty();
    }

    @Test
    void stdinErrorsAreNamedStdin() {
        Run r = run(new ByteArrayInputStream("measure\r\n".getBytes(StandardCharsets.UTF_8)), "policy", "check", "-");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).startsWith("<stdin>:1:1: unknown token \"measure\\r\"").contains("CRLF");
    }

    @Test
    void readBackKeepsNonAsciiBytes() throws IOException {
        byte[] policy = "measure fsname=caf\u00c3\u00a9\n".getBytes(StandardCharsets.ISO_8859_1);
        Path f = Files.write(dir.resolve("bytes.policy"), policy);
        Run r = run("policy", "check", f.toString());
        assertThat(r.code()).isZero();
        assertThat(r.out().getBytes(StandardCharsets.ISO_8859_1))
                .isEqualTo("measure fsname=caf\u00c3\u00a9 \n".getBytes(StandardCharsets.ISO_8859_1));
    }

    @Test
    void missingFileIsExit2WithAClearMessage() {
        Path missing = dir.resolve("nope.policy");
        Run r = run("policy", "check", missing.toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).isEqualTo("imans policy check: cannot read " + missing + ": no such file\n");
    }

    @Test
    void directoryIsExit2() {
        Run r = run("policy", "check", dir.toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("imans policy check: cannot read " + dir + ": is a directory\n");
    }

    @Test
    void unreadableFileIsExit2() throws IOException {
        Path f = write("secret.policy", "measure\n");
        assertThat(f.toFile().setReadable(false, false)).isTrue();
        Run r = run("policy", "check", f.toString());
        if (f.toFile().canRead()) {
            // root reads anything (CAP_DAC_OVERRIDE): then the file is simply accepted
            assertThat(r.code()).isZero();
        } else {
            assertThat(r.code()).isEqualTo(2);
            assertThat(r.err()).contains("permission denied");
        }
    }

    @Test
    void builtinPrintsTheKernelsList() {
        Run r = run("policy", "check", "--builtin", "secure_boot");
        assertThat(r.code()).isZero();
        assertThat(r.out()).isEqualTo("appraise func=MODULE_CHECK appraise_type=imasig \n"
                + "appraise func=FIRMWARE_CHECK appraise_type=imasig \n"
                + "appraise func=KEXEC_KERNEL_CHECK appraise_type=imasig \n"
                + "appraise func=POLICY_CHECK appraise_type=imasig \n");
        assertThat(r.err()).contains("builtin:secure_boot:1:10: warning: func=MODULE_CHECK is not enforceable");
    }

    @Test
    void unknownBuiltinIsExit2ListingTheNames() {
        Run r = run("policy", "check", "--builtin", "everything");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).isEqualTo("imans policy check: unknown built-in policy \"everything\"; known: "
                + "tcb, ima_tcb, appraise_tcb, secure_boot, critical_data\n");
    }

    @Test
    void fileAndBuiltinTogetherIsAUsageError() {
        Run r = run("policy", "check", "--builtin", "tcb", "x.policy");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.out()).isEmpty();
    }

    @Test
    void policyWithoutSubcommandIsAUsageError() {
        Run r = run("policy");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("missing policy subcommand");
    }

    @Test
    void everyConditionImansCannotEnforceIsReportedWithItsColumn() throws IOException {
        Path f = write("gaps.policy", "measure func=MMAP_CHECK\n"
                + "appraise func=CREDS_CHECK\n"
                + "appraise func=FILE_CHECK permit_directio\n"
                + "measure func=FILE_CHECK digest_type=verity\n"
                + "measure fsuuid=6a2ec3e7-f8dc-4e9b-9d3c-e1d1f5b4f8a1 fowner=0 uid=0 mask=MAY_READ fsname=ext4\n"
                + "measure obj_user=system_u\n");
        Run r = run("policy", "check", "--lsm", "smack", f.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err().lines().toList()).satisfiesExactly(
                l -> assertThat(l).startsWith(f + ":1:9: warning: func=MMAP_CHECK is not enforceable"),
                l -> assertThat(l).startsWith(f + ":2:10: warning: func=CREDS_CHECK is not enforceable")
                        .contains("as BPRM_CHECK"),
                l -> assertThat(l).startsWith(f + ":3:26: warning: permit_directio has no effect here"),
                l -> assertThat(l).startsWith(f + ":4:25: warning: digest_type=verity is not enforceable"),
                l -> assertThat(l).startsWith(f + ":6:9: warning: obj_user= is an LSM condition the kernel's"
                        + " smack judges: imans judges only SELinux labels"));
        Path selinux = write("selinux.policy", "appraise obj_type=etc_t subj_user=system_u subj_role=system_r\n");
        Run judged = run("policy", "check", "--lsm", "selinux", selinux.toString());
        assertThat(judged.code()).isZero();
        assertThat(judged.err()).isEmpty();
    }

    @Test
    void aNamedLsmDecidesWhichLsmConditionsTheKernelAccepts() throws IOException {
        Path f = write("lsm.policy", "measure subj_role=unconfined\n");
        Run apparmor = run("policy", "check", "--lsm", "capability,apparmor", f.toString());
        assertThat(apparmor.code()).isZero();
        assertThat(apparmor.out()).isEqualTo("measure subj_role=unconfined \n");
        assertThat(apparmor.err()).contains(":1:9: warning: subj_role= is an LSM condition the kernel's apparmor"
                + " judges").contains("never matches here although it can match on the kernel");
        Run none = run("policy", "check", "--lsm", "none", f.toString());
        assertThat(none.code()).isEqualTo(1);
        assertThat(none.err()).contains(":1:9: subj_role= is not supported by the active LSM");
        Path smack = write("smack.policy", "measure subj_user=_\n");
        assertThat(run("policy", "check", "--lsm", "smack", smack.toString()).code()).isZero();
        assertThat(run("policy", "check", "--lsm", "apparmor", smack.toString()).code()).isEqualTo(1);
    }

    @Test
    void withoutLsmTheHostsLsmsJudgeTheConditions() throws IOException {
        Path f = write("host.policy", "measure subj_role=unconfined\n");
        java.util.List<String> host = dev.imans.linux.Lsms.active().orElseThrow();
        Run r = run("policy", "check", f.toString());
        assertThat(r.code()).isZero();
        if (host.contains("apparmor")) {
            assertThat(r.err()).contains("the kernel's apparmor judges");
        } else {
            assertThat(r.err()).contains("subj_role= is an LSM condition no active LSM (" + String.join(",", host)
                    + ") can judge").contains("this rule has no effect");
        }
        Run named = run("policy", "check", "--lsm", "host", f.toString());
        assertThat(named.code()).isEqualTo(host.contains("apparmor") || host.contains("selinux") ? 0 : 1);
    }
}
