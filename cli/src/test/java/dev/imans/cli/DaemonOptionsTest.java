package dev.imans.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** {@code imans daemon}'s measurement options are checked before anything starts. */
class DaemonOptionsTest {
    @Test
    void anUnknownTemplateIsRefusedWithTheReason() {
        CliRun r = CliRun.of("daemon", "--template", "d-ng|bogus", "--control", "/nonexistent/ima");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.stderr()).contains("--template").contains("unknown template field 'bogus'");
    }

    @Test
    void anUnknownHashIsRefused() {
        CliRun r = CliRun.of("daemon", "--hash", "sha3000", "--control", "/nonexistent/ima");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.stderr()).contains("unknown hash algorithm 'sha3000'");
    }

    @Test
    void aTpmWithoutItsPcrIsRefusedForThereIsNoDefaultPcr() throws Exception {
        CliRun r = CliRun.of("daemon", "--config", "/dev/null", "--tpm", "/dev/tpmrm0", "--control", "/nonexistent/ima");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.stderr()).contains("--tpm and --tpm-pcr go together");
        CliRun pcrOnly = CliRun.of("daemon", "--config", "/dev/null", "--tpm-pcr", "15", "--control", "/nonexistent/ima");
        assertThat(pcrOnly.exitCode()).isEqualTo(2);
        assertThat(pcrOnly.stderr()).contains("--tpm and --tpm-pcr go together");
        CliRun range = CliRun.of("daemon", "--config", "/dev/null", "--tpm", "/dev/tpmrm0", "--tpm-pcr", "24",
                "--control", "/nonexistent/ima");
        assertThat(range.exitCode()).isEqualTo(2);
        assertThat(range.stderr()).contains("--tpm-pcr 24 out of range 0-23");
        CliRun port = CliRun.of("daemon", "--config", "/dev/null", "--tpm", "tcp:localhost", "--tpm-pcr", "15",
                "--control", "/nonexistent/ima");
        assertThat(port.exitCode()).isEqualTo(2);
        assertThat(port.stderr()).contains("expected tcp:HOST:PORT");

        // The config file's keys are the options': a file naming the TPM alone is refused the same way.
        java.nio.file.Path conf = java.nio.file.Files.createTempFile("imans", ".conf");
        try {
            java.nio.file.Files.writeString(conf, "tpm = /dev/tpmrm0\n");
            CliRun file = CliRun.of("daemon", "--config", conf.toString(), "--control", "/nonexistent/ima");
            assertThat(file.exitCode()).isEqualTo(2);
            assertThat(file.stderr()).contains("--tpm and --tpm-pcr go together");
        } finally {
            java.nio.file.Files.delete(conf);
        }
    }

    @Test
    void helpNamesTheMeasurementOptions() {
        CliRun r = CliRun.of("daemon", "--help");
        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).contains("--template=NAME").contains("--hash=ALGO").contains("--tpm=DEVICE")
                .contains("--tpm-pcr=N");
    }
}
