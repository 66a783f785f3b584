package dev.imans.linux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Without SIGIO ignored, a writer that breaks the lease probe's read lease kills the probing process
 * (the JVM leaves SIGIO at its default action). This test would then kill its own JVM.
 */
class SignalsTest {
    @TempDir
    Path dir;

    @Test
    void aBrokenLeaseNoLongerKillsTheProcess() throws Exception {
        Signals.ignore(Signals.SIGIO);
        Process kill = new ProcessBuilder("kill", "-IO", Long.toString(ProcessHandle.current().pid())).start();
        assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();

        Path f = Files.writeString(dir.resolve("f"), "x");
        AtomicBoolean stop = new AtomicBoolean();
        Thread writer = Thread.ofPlatform().start(() -> {
            while (!stop.get()) {
                try (FileChannel w = FileChannel.open(f, StandardOpenOption.WRITE)) {
                    Thread.onSpinWait();
                } catch (Exception e) {
                    // EAGAIN from a lease being broken is possible for a non-blocking open only.
                }
            }
        });
        long probes = 0;
        try (Arena arena = Arena.ofConfined(); Fd probe = Fd.open(f, Fd.O_RDONLY)) {
            MemorySegment err = Native.errnoSegment(arena);
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
            while (System.nanoTime() < end) {
                assertThat(Leases.openForWrite(err, probe.value())).isBetween(0, 1);
                probes++;
            }
        } finally {
            stop.set(true);
            writer.join();
        }
        assertThat(probes).isPositive();
    }

    @Test
    void threadsAreToldApartFromOtherProcessesWithoutSendingAnything() throws Exception {
        int self = (int) ProcessHandle.current().pid();
        // /proc/thread-self names the calling thread, "PID/task/TID": a JVM runs tests off its leader.
        String link = java.nio.file.Files.readSymbolicLink(java.nio.file.Path.of("/proc/thread-self")).toString();
        int mine = Integer.parseInt(link.substring(link.lastIndexOf('/') + 1));
        assertThat(mine).isNotEqualTo(self);
        Process other = new ProcessBuilder("sleep", "30").start();
        try {
            assertThat(Signals.isThreadOf(self, self)).isTrue();
            assertThat(Signals.isThreadOf(self, mine)).as("a thread of this process").isTrue();
            assertThat(Signals.isThreadOf(self, (int) other.pid())).as("another process").isFalse();
            assertThat(Signals.isThreadOf((int) other.pid(), mine)).as("this thread, another group").isFalse();
            assertThat(Signals.isThreadOf(self, 0)).isFalse();
            assertThat(other.isAlive()).as("nothing was sent").isTrue();
        } finally {
            other.destroyForcibly();
        }
    }

    @Test
    void aBadSignalIsAnError() {
        assertThatThrownBy(() -> Signals.ignore(0)).isInstanceOf(LinuxException.class);
    }

    @Test
    void dispositionsAreReadWithoutChangingThem() throws Exception {
        // The JVM installs its own handler for SIGSEGV (implicit null checks) and leaves SIGUSR1 alone.
        assertThat(Signals.isDefault(11)).isFalse();
        assertThat(Signals.isDefault(10)).isTrue();
        assertThat(Signals.isDefault(10)).isTrue();
        Signals.ignore(Signals.SIGIO);
        assertThat(Signals.isDefault(Signals.SIGIO)).isFalse();
        assertThatThrownBy(() -> Signals.isDefault(0)).isInstanceOf(LinuxException.class);
    }

    @Test
    void realtimeSignalsLeaveGlibcsOwnAlone() {
        int[] range = Signals.realtimeRange();
        assertThat(range[0]).isGreaterThan(32);
        assertThat(range[1]).isEqualTo(64);
    }
}
