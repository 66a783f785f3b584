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
    void helpNamesTheMeasurementOptions() {
        CliRun r = CliRun.of("daemon", "--help");
        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).contains("--template=NAME").contains("--hash=ALGO");
    }
}
