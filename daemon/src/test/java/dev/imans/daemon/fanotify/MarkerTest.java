package dev.imans.daemon.fanotify;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imans.linux.Fd;
import dev.imans.linux.Stat;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The marker does each answer's after-answer work once, on its own thread, and closes its descriptor;
 * when it is behind by its whole queue the reader is told to do the work itself; what it has not started
 * at shutdown is dropped and closed, never leaked.
 */
class MarkerTest {
    @Test
    void doesTheWorkThenClosesTheDescriptor() throws Exception {
        List<Object> done = new CopyOnWriteArrayList<>();
        CountDownLatch one = new CountDownLatch(1);
        Marker marker = new Marker(decider(e -> {
            done.add(e.afterAnswerWork());
            assertThat(open(e.fd())).as("the fd is open while its work runs").isTrue();
            one.countDown();
        }), new EngineMetrics());
        Thread t = Thread.ofPlatform().start(marker);
        int fd = devNull();
        assertThat(marker.offer(event(fd, "mark"))).isTrue();
        assertThat(one.await(5, TimeUnit.SECONDS)).isTrue();
        waitUntilClosed(fd);
        assertThat(done).containsExactly("mark");
        marker.stop(t);
        assertThat(t.join(Duration.ofSeconds(5))).isTrue();
        int late = devNull();
        assertThat(marker.offer(event(late, "late"))).as("refused once stopped").isFalse();
        assertThat(open(late)).as("a refused event's fd stays the caller's").isTrue();
        new FanotifyResponderCloser().close(late);
    }

    @Test
    void aFullQueueSendsTheWorkBackAndShutdownClosesWhatWasNotStarted() throws Exception {
        EngineMetrics metrics = new EngineMetrics();
        CountDownLatch hold = new CountDownLatch(1);
        CountDownLatch started = new CountDownLatch(1);
        List<Object> done = new CopyOnWriteArrayList<>();
        Marker marker = new Marker(decider(e -> {
            started.countDown();
            try {
                hold.await();
            } catch (InterruptedException x) {
                Thread.currentThread().interrupt();
            }
            done.add(e.afterAnswerWork());
        }), metrics);
        Thread t = Thread.ofPlatform().start(marker);
        int busy = devNull();
        assertThat(marker.offer(event(busy, "busy"))).isTrue();
        assertThat(started.await(5, TimeUnit.SECONDS)).isTrue();
        List<Integer> queued = new ArrayList<>();
        for (int i = 0; i < Marker.CAPACITY; i++) {
            int fd = devNull();
            queued.add(fd);
            assertThat(marker.offer(event(fd, i))).isTrue();
        }
        int extra = devNull();
        assertThat(marker.offer(event(extra, "extra"))).isFalse();
        assertThat(metrics.afterAnswerInline()).isEqualTo(1);
        assertThat(open(extra)).as("a refused event's fd stays the caller's").isTrue();
        new FanotifyResponderCloser().close(extra);

        marker.stop(t);
        hold.countDown();
        assertThat(t.join(Duration.ofSeconds(5))).isTrue();
        marker.drop();
        assertThat(done).containsExactly("busy");
        for (int fd : queued) {
            assertThat(open(fd)).as("fd %d of work never started is closed", fd).isFalse();
        }
        assertThat(open(busy)).isFalse();
    }

    private static Decider decider(java.util.function.Consumer<PermissionEvent> answered) {
        return new Decider() {
            @Override
            public Verdict decide(PermissionEvent event) {
                return Verdict.ALLOW;
            }

            @Override
            public void answered(PermissionEvent event) {
                answered.accept(event);
            }
        };
    }

    private static PermissionEvent event(int fd, Object work) throws Exception {
        PermissionEvent e = new PermissionEvent();
        try (Stat.Buffer st = new Stat.Buffer()) {
            assertThat(st.fstat(fd)).isZero();
            e.fill(fd, 1, -1, dev.imans.linux.Fanotify.FAN_OPEN_PERM, st);
        }
        e.afterAnswer(work);
        return e;
    }

    private static int devNull() throws Exception {
        Fd fd = Fd.open(Path.of("/dev/null"), Fd.O_RDONLY);
        return fd.value();
    }

    private static boolean open(int fd) {
        return Files.exists(Path.of("/proc/self/fd/" + fd), java.nio.file.LinkOption.NOFOLLOW_LINKS);
    }

    private static void waitUntilClosed(int fd) throws InterruptedException {
        for (int i = 0; i < 500 && open(fd); i++) {
            Thread.sleep(10);
        }
        assertThat(open(fd)).isFalse();
    }

    /** Closes a descriptor the way the reader does. */
    private static final class FanotifyResponderCloser {
        void close(int fd) {
            try (dev.imans.linux.FanotifyResponder r = new dev.imans.linux.FanotifyResponder()) {
                r.closeFd(fd);
            }
        }
    }
}
