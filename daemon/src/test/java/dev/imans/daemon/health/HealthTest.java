package dev.imans.daemon.health;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class HealthTest {
    @Test
    void okUntilDegradedAndAgainAfterRecovery() {
        Health h = new Health();
        assertThat(h.render()).isEqualTo("ok\n");
        h.degrade(Condition.FILESYSTEM_UNMARKED, "dev 0:52", "cannot mark tmpfs /x: ENODEV");
        h.degrade(Condition.STATE_UNSAVED, "", "no space");
        assertThat(h.render().lines().toList()).hasSize(2);
        assertThat(h.render()).startsWith("filesystem-unmarked dev 0:52 since ")
                .contains(": cannot mark tmpfs /x: ENODEV\nstate-unsaved since ");
        assertThat(h.ignoreMarksSuspended()).as("neither makes an ignore mark unsafe").isFalse();
        assertThat(h.recover(Condition.FILESYSTEM_UNMARKED, "dev 0:52")).isTrue();
        assertThat(h.recover(Condition.FILESYSTEM_UNMARKED, "dev 0:52")).isFalse();
        assertThat(h.recover(Condition.STATE_UNSAVED, "")).isTrue();
        assertThat(h.render()).isEqualTo("ok\n");
    }

    @Test
    void aStateEnteredAgainKeepsItsStartAndTakesTheNewCause() {
        Health h = new Health();
        h.degrade(Condition.STATE_UNSAVED, "", "first\ncause");
        Degradation first = h.active().getFirst();
        h.degrade(Condition.STATE_UNSAVED, "", "second");
        assertThat(h.active()).hasSize(1);
        assertThat(h.active().getFirst().since()).isEqualTo(first.since());
        assertThat(h.active().getFirst().cause()).isEqualTo("second");
        assertThat(first.line()).as("one line each").doesNotContain("\n").endsWith("first cause");
    }

    @Test
    void ignoreMarksAreSuspendedWhileAnyUnsafeStateLasts() {
        Health h = new Health();
        h.degrade(Condition.IGNORE_MARKS_STALE, "", "flush failed");
        h.degrade(Condition.MODIFICATION_WATCHER_DOWN, "", "stopped");
        assertThat(h.ignoreMarksSuspended()).isTrue();
        h.recover(Condition.IGNORE_MARKS_STALE, "");
        assertThat(h.ignoreMarksSuspended()).isTrue();
        h.recover(Condition.MODIFICATION_WATCHER_DOWN, "");
        assertThat(h.ignoreMarksSuspended()).isFalse();
    }

    @Test
    void aRetryThatSucceedsClearsTheStateAndAFailingOneKeepsItWithItsNewestCause() throws Exception {
        Health h = new Health();
        AtomicInteger attempts = new AtomicInteger();
        h.degrade(Condition.IGNORE_MARKS_STALE, "", "flush failed", Optional.of(() -> {
            if (attempts.incrementAndGet() < 2) {
                throw new IOException("still failing");
            }
        }));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (attempts.get() < 1) {
            assertThat(System.nanoTime()).isLessThan(deadline);
            Thread.sleep(10);
        }
        Thread.sleep(100);
        if (attempts.get() == 1) {
            assertThat(h.render()).contains("still failing");
        }
        while (h.ignoreMarksSuspended()) {
            assertThat(System.nanoTime()).isLessThan(deadline);
            Thread.sleep(10);
        }
        assertThat(attempts.get()).isEqualTo(2);
        assertThat(h.render()).isEqualTo("ok\n");
        h.close();
    }
}
