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
                + seed + ":1:1: note: programs executed from a memfd (memfd_create) are not seen: they live on the"
                + " kernel's internal tmpfs, which fanotify cannot mark; sysctl vm.memfd_noexec=2 (per pid"
                + " namespace) makes the kernel refuse such execs\n");
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
}
