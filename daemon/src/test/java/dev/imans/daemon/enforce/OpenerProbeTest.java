package dev.imans.daemon.enforce;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imans.linux.Proc;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The opener's thread count from /proc/PID/task is the one /proc/PID/status shows. */
class OpenerProbeTest {
    @Test
    void threadCountsAgreeWithStatus() throws Exception {
        Process sleeper = new ProcessBuilder("sleep", "30").start();
        try {
            int pid = (int) sleeper.pid();
            // Wait until it runs sleep (not the JVM's short-lived launcher state).
            for (int i = 0; i < 100 && !Proc.comm(pid).equals("sleep"); i++) {
                Thread.sleep(10);
            }
            assertThat(OpenerProbe.threads(pid)).isEqualTo(1)
                    .isEqualTo(OpenerProbe.threads(Proc.readSmall("/proc/" + pid + "/status")));
        } finally {
            sleeper.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
        // This JVM: many threads, and none starts or ends while they are held back here.
        Thread[] parked = new Thread[3];
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        for (int i = 0; i < parked.length; i++) {
            parked[i] = Thread.ofPlatform().start(() -> {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
        }
        try {
            int self = (int) ProcessHandle.current().pid();
            assertThat(OpenerProbe.threads(self)).isGreaterThan(parked.length);
        } finally {
            release.countDown();
            for (Thread t : parked) {
                t.join();
            }
        }
    }
}
