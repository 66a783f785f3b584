package dev.imans.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class VersionTest {
    @Test
    void versionComesFromTheBuild() {
        assertThat(Version.get()).matches("\\d+\\.\\d+\\.\\d+.*");
        assertThat(Main.run("--version")).isZero();
    }
}
