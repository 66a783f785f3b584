package dev.imans.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The measurements commands over the kernel's own ima-sig list (6.1, no TPM). */
class MeasurementsCommandTest {
    static final String PCR10_SHA1 = "52c4f1355d9d835d1ecb67e395ced6a3f747a4a8";
    static final String PCR10_SHA256 = "5dfd080b8dd70f02e5c2146caf36fee1fd85f80dc705ae92b55a9ad2c3a21b16";

    @TempDir
    Path dir;

    static byte[] resource(String name) throws IOException {
        try (InputStream in = MeasurementsCommandTest.class.getResourceAsStream(name)) {
            return in.readAllBytes();
        }
    }

    Path kernelList() throws IOException {
        Path p = dir.resolve("binary_runtime_measurements");
        Files.write(p, resource("binary_runtime_measurements"));
        return p;
    }

    @Test
    void anchorVerificationNeedsAPcrToCompareWithAndNoListFile() throws IOException {
        CliRun none = CliRun.of("measurements", "verify", "--anchor", dir.toString());
        assertThat(none.exitCode()).isEqualTo(2);
        assertThat(none.stderr()).contains("--anchor needs the PCR to compare with");
        CliRun both = CliRun.of("measurements", "verify", "--anchor", dir.toString(), "--pcr-value",
                "sha256:" + "00".repeat(32), kernelList().toString());
        assertThat(both.exitCode()).isEqualTo(2);
        assertThat(both.stderr()).contains("no FILE");
        CliRun tpmWithFile = CliRun.of("measurements", "verify", "--tpm", "/dev/tpmrm0", kernelList().toString());
        assertThat(tpmWithFile.exitCode()).isEqualTo(2);
        assertThat(tpmWithFile.stderr()).contains("go with --anchor");
        CliRun badValue = CliRun.of("measurements", "verify", "--anchor", dir.toString(), "--pcr-value", "sha256:abcd");
        assertThat(badValue.exitCode()).isEqualTo(2);
        assertThat(badValue.stderr()).contains("sha256 values are 32 bytes");
        CliRun noLog = CliRun.of("measurements", "verify", "--anchor", dir.toString(), "--pcr-value",
                "sha256:" + "00".repeat(32));
        assertThat(noLog.exitCode()).isEqualTo(2);
        assertThat(noLog.stderr()).contains(dir.resolve("measurements/tpm-anchor.log") + ": no such file");
    }

    @Test
    void printShowsTheKernelsAsciiList() throws IOException {
        CliRun r = CliRun.of("measurements", "print", kernelList().toString());
        assertThat(r.exitCode()).isZero();
        assertThat(r.stdout()).isEqualTo(resource("ascii_runtime_measurements"));
        CliRun sha256 = CliRun.of("measurements", "print", "--bank", "sha256", kernelList().toString());
        assertThat(sha256.out().lines()).hasSize(13).allMatch(l -> l.matches("10 [0-9a-f]{64} ima-sig .*"));
    }

    @Test
    void verifyPrintsPcrsAndComparesThem() throws IOException {
        String list = kernelList().toString();
        CliRun strict = CliRun.of("measurements", "verify", list);
        assertThat(strict.exitCode()).isEqualTo(1);
        assertThat(strict.out()).contains("2 violation(s)").contains("PCR-10 sha1: " + PCR10_SHA1)
                .contains("PCR-10 sha256: " + PCR10_SHA256).endsWith("FAILED\n");

        CliRun ok = CliRun.of("measurements", "verify", "--ignore-violations",
                "--expect-pcr", "10=" + PCR10_SHA1, "--expect-pcr", "10=" + PCR10_SHA256, list);
        assertThat(ok.exitCode()).isZero();
        assertThat(ok.out()).contains("PCR-10 sha256 (--expect-pcr): matches").endsWith("OK\n");

        CliRun wrong = CliRun.of("measurements", "verify", "--ignore-violations",
                "--expect-pcr", "10=" + PCR10_SHA1.replace('5', '6'), list);
        assertThat(wrong.exitCode()).isEqualTo(1);
        assertThat(wrong.out()).contains("MISMATCH");
    }

    @Test
    void pcrsWritesEvmctlsFormatWhichVerifyReadsBack() throws IOException {
        String list = kernelList().toString();
        for (String bank : new String[] {"sha1", "sha256"}) {
            CliRun r = CliRun.of("measurements", "pcrs", "--bank", bank, list);
            assertThat(r.exitCode()).isZero();
            assertThat(r.out().lines()).hasSize(24);
            Files.write(dir.resolve(bank + ".pcrs"), r.stdout());
        }
        assertThat(CliRun.of("measurements", "pcrs", list).out())
                .contains("PCR-10: " + PCR10_SHA1 + "\n").startsWith("PCR-00: " + "00".repeat(20) + "\n");
        CliRun v = CliRun.of("measurements", "verify", "--ignore-violations",
                "--pcrs", dir.resolve("sha1.pcrs").toString(), "--pcrs", "sha256," + dir.resolve("sha256.pcrs"), list);
        assertThat(v.exitCode()).isZero();
        assertThat(v.out()).contains("PCR-10 sha256 (sha256," + dir.resolve("sha256.pcrs") + "): matches");
    }

    @Test
    void badInputGetsAClearMessageAndTheRightExitCode() throws IOException {
        byte[] list = resource("binary_runtime_measurements");
        Path cut = dir.resolve("cut");
        Files.write(cut, java.util.Arrays.copyOf(list, 100));
        CliRun truncated = CliRun.of("measurements", "print", cut.toString());
        assertThat(truncated.exitCode()).isEqualTo(1);
        assertThat(truncated.stderr()).contains("offset 0: truncated record: template data length 67 exceeds the 61 bytes left").doesNotContain("Exception");

        Path tampered = dir.resolve("tampered");
        byte[] t = list.clone();
        t[list.length - 8] ^= 1; // a letter of the last name
        Files.write(tampered, t);
        CliRun v = CliRun.of("measurements", "verify", "--ignore-violations", tampered.toString());
        assertThat(v.exitCode()).isEqualTo(1);
        assertThat(v.out()).contains("entry 12 at offset").contains("does not match its data");
        assertThat(CliRun.of("measurements", "pcrs", tampered.toString()).exitCode()).isEqualTo(1);

        CliRun missing = CliRun.of("measurements", "verify", dir.resolve("nope").toString());
        assertThat(missing.exitCode()).isEqualTo(2);
        assertThat(missing.stderr()).contains("nope: cannot read: no such file");
        assertThat(CliRun.of("measurements", "verify", "--pcrs", dir.resolve("nope").toString(), kernelList().toString())
                .exitCode()).isEqualTo(2);
        assertThat(CliRun.of("measurements", "verify", "--expect-pcr", "10=abcd", kernelList().toString()).exitCode())
                .isEqualTo(2);
        assertThat(CliRun.of("measurements", "print", "--bank", "nosuch", kernelList().toString()).exitCode()).isEqualTo(2);
        assertThat(CliRun.of("measurements").exitCode()).isEqualTo(2);
    }
}
