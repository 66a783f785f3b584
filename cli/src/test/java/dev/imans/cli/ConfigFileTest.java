package dev.imans.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The config file's sections: what the daemon takes from it and what {@code imans oci-hook} takes. */
class ConfigFileTest {
    @TempDir
    Path tmp;

    @Test
    void theDaemonSkipsTheHookSectionAndTheHookTakesItWithTheDaemonsControl() throws Exception {
        Path conf = Files.writeString(tmp.resolve("imans.conf"), """
                control = /run/x/ima
                watch-fs = tmpfs

                [oci-hook]
                default-policy = /etc/imans/default.policy
                memfd-noexec = require
                """);
        ConfigFile file = ConfigFile.read(conf, true);
        CommandLine daemon = new CommandLine(new DaemonCommand());
        assertThat(file.arguments(daemon.getCommandSpec(), daemon.parseArgs("--log-level", "warn")))
                .containsExactly("--control=/run/x/ima", "--watch-fs=tmpfs");
        CommandLine hook = new CommandLine(new OciHookCommand());
        assertThat(file.ociHook().arguments(hook.getCommandSpec(), hook.parseArgs()))
                .containsExactly("--default-policy=/etc/imans/default.policy", "--memfd-noexec=require", "--control=/run/x/ima");
        file.checkOciHook();
        // A daemon setting written below the header: the daemon refuses the file instead of skipping it.
        Files.writeString(conf, "[oci-hook]\nwatch-fs = tmpfs\n");
        assertThatThrownBy(() -> ConfigFile.read(conf, true).checkOciHook()).hasMessage(conf
                + ": unknown setting 'watch-fs' in section [oci-hook] (the settings of imans oci-hook)");
    }

    @Test
    void anUnknownOrRepeatedSectionIsRefusedWithItsLine() throws Exception {
        Path conf = Files.writeString(tmp.resolve("imans.conf"), "log-level = info\n[ocihook]\n");
        assertThatThrownBy(() -> ConfigFile.read(conf, true))
                .hasMessage(conf + ":2: unknown section '[ocihook]' (known: [oci-hook])");
        Files.writeString(conf, "[oci-hook]\n[oci-hook]\n");
        assertThatThrownBy(() -> ConfigFile.read(conf, true)).hasMessage(conf + ":2: section [oci-hook] given twice");
        Files.writeString(conf, "[oci-hook\n");
        assertThatThrownBy(() -> ConfigFile.read(conf, true)).hasMessageContaining(":1: unknown section '[oci-hook'");
    }
}
