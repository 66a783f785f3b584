package dev.imans.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * {@code imans daemon} ends its start's warm-up with a rehearsal (real opens judged by private engines, in a
 * namespace of its own) unless told not to, on the command line or in its config file.
 */
class DaemonRehearsalTest {
    @Test
    void theDaemonRehearsesByDefault() throws Exception {
        try (DaemonProcess d = new DaemonProcess(DaemonProcess.REHEARSING)) {
            DaemonProcess.await("the warm-up", () -> d.log().contains("warm-up done"));
            assertThat(d.log()).containsPattern("info: warm-up done in \\d+ ms, \\d{4,} events rehearsed \\(\\d+ allowed,"
                    + " 0 denied, \\d+ from a layer judged before, on 6 filesystems of its own\\)");
        }
    }

    @Test
    void noRehearsalLeavesItOutFromTheCommandLineOrTheConfigFile() throws Exception {
        try (DaemonProcess d = new DaemonProcess()) {
            DaemonProcess.await("the warm-up", () -> d.log().contains("warm-up done"));
            assertThat(d.log()).containsPattern("warm-up done in \\d+ ms\\n").doesNotContain("rehears");
        }
        Path conf = Files.createTempFile("imans", ".conf");
        try {
            Files.writeString(conf, "no-rehearsal = true\n");
            try (DaemonProcess d = new DaemonProcess(DaemonProcess.REHEARSING, "--config", conf.toString())) {
                DaemonProcess.await("the warm-up", () -> d.log().contains("warm-up done"));
                assertThat(d.log()).containsPattern("warm-up done in \\d+ ms\\n").doesNotContain("rehears");
            }
        } finally {
            Files.delete(conf);
        }
    }
}
