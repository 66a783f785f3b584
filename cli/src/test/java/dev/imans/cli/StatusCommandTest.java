package dev.imans.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imans.daemon.Daemon;
import dev.imans.daemon.DaemonConfig;
import dev.imans.daemon.ns.PolicyUpdateListener;
import dev.imans.ns.AppraiseSetting;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code imans status} against a real daemon whose state directory really turns read-only. Needs root. */
class StatusCommandTest {
    @TempDir
    Path tmp;

    Daemon daemon;
    Process sleeper;
    Path state;
    boolean mounted;

    @AfterEach
    void stop() throws Exception {
        if (sleeper != null) {
            sleeper.destroyForcibly();
            sleeper.waitFor(5, TimeUnit.SECONDS);
        }
        if (daemon != null) {
            daemon.close();
        }
        Path ima = tmp.resolve("ima");
        if (Files.readString(Path.of("/proc/self/mountinfo")).contains(" " + ima + " ")) {
            new ProcessBuilder("umount", "-l", ima.toString()).start().waitFor(10, TimeUnit.SECONDS);
        }
        if (mounted) {
            // Detaches the lists' tmpfs below it too.
            Tools.run("umount", "-l", state.toString());
        }
    }

    @Test
    void showsOkThenTheUnsavedStateThenOkAgain() throws Exception {
        state = Files.createDirectories(tmp.resolve("state"));
        assertThat(Tools.run("mount", "-t", "tmpfs", "-o", "size=1m", "imans-test-state", state.toString()).rc())
                .isZero();
        mounted = true;
        // The measurement list files stay open for appending, which a read-only remount refuses (EBUSY):
        // they get a filesystem of their own, and only the journal's turns read-only.
        Path lists = Files.createDirectories(state.resolve("measurements"));
        assertThat(Tools.run("mount", "-t", "tmpfs", "-o", "size=1m", "imans-test-lists", lists.toString()).rc())
                .isZero();
        Path ima = tmp.resolve("ima");
        daemon = Daemon.start(new DaemonConfig(ima, false, state, Optional.empty(), AppraiseSetting.ENFORCE),
                PolicyUpdateListener.NONE);
        String control = ima.toString();
        ControlCommandsTest.Run ok = ControlCommandsTest.imans("status", "--control", control);
        assertThat(ok.exit()).isZero();
        assertThat(ok.out()).isEqualTo("ok\n");

        assertThat(Tools.run("mount", "-o", "remount,ro", state.toString()).rc()).isZero();
        sleeper = new ProcessBuilder("unshare", "-m", "sleep", "60").start();
        String own = Files.readSymbolicLink(Path.of("/proc/self/ns/mnt")).toString();
        Path link = Path.of("/proc", Long.toString(sleeper.pid()), "ns", "mnt");
        Instant deadline = Instant.now().plus(Duration.ofSeconds(10));
        while (Files.readSymbolicLink(link).toString().equals(own)) {
            assertThat(Instant.now()).isBefore(deadline);
            Thread.sleep(10);
        }
        ControlCommandsTest.Run add = ControlCommandsTest.imans("ns", "add", "--control", control,
                Long.toString(sleeper.pid()));
        assertThat(add.exit()).as(add.out()).isEqualTo(1);
        ControlCommandsTest.Run degraded = ControlCommandsTest.imans("status", "--control", control);
        assertThat(degraded.exit()).isEqualTo(StatusCommand.DEGRADED);
        assertThat(degraded.out()).startsWith("state-unsaved since ").contains("Read-only file system");

        assertThat(Tools.run("mount", "-o", "remount,rw", state.toString()).rc()).isZero();
        deadline = Instant.now().plus(Duration.ofSeconds(15));
        while (ControlCommandsTest.imans("status", "--control", control).exit() != 0) {
            assertThat(Instant.now()).isBefore(deadline);
            Thread.sleep(50);
        }
        assertThat(ControlCommandsTest.imans("status", "--control", control).out()).isEqualTo("ok\n");
        assertThat(Files.readString(state.resolve("state"))).contains("namespace "
                + Files.readSymbolicLink(link).toString().substring(5, 15));
    }
}
