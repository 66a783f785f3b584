package dev.imans.daemon.fanotify;

import static dev.imans.daemon.Eventually.eventually;
import static dev.imans.daemon.Holding.holding;
import static org.assertj.core.api.Assertions.assertThat;

import dev.imans.daemon.health.Condition;
import dev.imans.daemon.health.Health;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A modification watcher that stops is a degraded state: the ignore marks it guarded are dropped, no
 * new one is added (every open reaches the decider), and the watcher is restarted. Real tmpfs, real
 * fanotify groups, real processes (root); the stop itself is injected.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class WatcherRecoveryTest {
    @TempDir
    Path tmp;
    TmpfsMount fs;
    FanotifyEngine engine;
    NameDecider decider;

    @AfterEach
    void tearDown() throws Exception {
        try {
            if (engine != null) {
                engine.close();
            }
        } finally {
            if (fs != null) {
                fs.close();
            }
        }
    }

    @Test
    void aStoppedWatcherDropsAndSuspendsIgnoreMarksUntilItRunsAgain() throws Exception {
        Health health = new Health();
        Path f = markedFile("cache-a", ModificationListener.NONE, health);

        engine.watcherFault = () -> {
            throw new IllegalStateException("injected watcher failure");
        };
        // The watcher runs the fault after its current batch: give it one.
        Files.writeString(fs.dir.resolve("other"), "x");
        eventually(() -> assertThat(health.isDegraded(Condition.MODIFICATION_WATCHER_DOWN, "")).isTrue());
        assertThat(health.ignoreMarksSuspended()).isTrue();
        assertThat(health.render()).startsWith("modification-watcher-down since ")
                .contains("injected watcher failure");
        // The state is entered (suspending new marks) before the old ones are flushed.
        eventually(() -> {
            cat(f);
            assertThat(decider.askedAbout("cache-a")).as("the old mark is gone").hasSizeGreaterThan(1);
        });
        int asked = decider.askedAbout("cache-a").size();
        cat(f);
        cat(f);
        assertThat(decider.askedAbout("cache-a")).as("no new mark is added").hasSize(asked + 2);
        // Retries keep failing while the cause lasts.
        Thread.sleep(2500);
        assertThat(health.isDegraded(Condition.MODIFICATION_WATCHER_DOWN, "")).isTrue();

        engine.watcherFault = () -> { };
        eventually(() -> assertThat(health.render()).isEqualTo("ok\n"));
        assertThat(health.ignoreMarksSuspended()).isFalse();
        cat(f);
        cat(f);
        assertThat(decider.askedAbout("cache-a")).as("marked again once the watcher runs").hasSize(asked + 3);
        // The restarted watcher does its job: a write drops the mark.
        Files.writeString(f, "v2\n");
        eventually(() -> assertThat(engine.metrics().modifications()).isPositive());
        eventually(() -> {
            assertThat(catOut(f)).isEqualTo("v2\n");
            assertThat(decider.askedAbout("cache-a")).hasSizeGreaterThan(asked + 3);
        });
    }

    /**
     * A watcher that stays inside one batch (here held there; in life a path walk waiting on a FUSE
     * server that never answers) is a degraded state too: its marks are dropped and none is added until
     * it is back, and the cache is told it lost track.
     */
    @Test
    void aStalledWatcherDropsAndSuspendsIgnoreMarksUntilItMovesAgain() throws Exception {
        Health health = new Health();
        LostTrackCounter listener = new LostTrackCounter();
        Path f = markedFile("cache-s", listener, health);

        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        engine.watcherFault = holding(new java.util.concurrent.CountDownLatch(1), release);
        try {
            Files.writeString(fs.dir.resolve("other"), "x");
            eventually(() -> assertThat(health.isDegraded(Condition.MODIFICATION_WATCHER_BEHIND, "filesystems"))
                    .isTrue());
            assertThat(health.ignoreMarksSuspended()).isTrue();
            assertThat(health.render()).startsWith("modification-watcher-behind filesystems since ")
                    .contains("in one batch for over 2 s");
            eventually(() -> assertThat(listener.count()).as("the cache is told").isPositive());
            eventually(() -> {
                cat(f);
                assertThat(decider.askedAbout("cache-s")).as("the old mark is gone").hasSizeGreaterThan(1);
            });
            int asked = decider.askedAbout("cache-s").size();
            cat(f);
            assertThat(decider.askedAbout("cache-s")).as("no new mark is added").hasSize(asked + 1);
        } finally {
            engine.watcherFault = () -> { };
            release.countDown();
        }
        eventually(() -> assertThat(health.render()).isEqualTo("ok\n"));
        int asked = decider.askedAbout("cache-s").size();
        cat(f);
        cat(f);
        assertThat(decider.askedAbout("cache-s")).as("marked again once the watcher moves").hasSize(asked + 1);
    }

    /**
     * A watcher with more events waiting than it reads in a batch is behind as well: the marks go until
     * it has caught up, so a process that writes or opens fast enough to keep it behind does not keep
     * the marks standing over a write it has not read.
     */
    @Test
    void aWatcherFarBehindItsEventsDropsAndSuspendsIgnoreMarksUntilItCatchesUp() throws Exception {
        Health health = new Health();
        Path f = markedFile("cache-b", ModificationListener.NONE, health);
        java.util.concurrent.CountDownLatch held = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        engine.watcherFault = holding(held, release);
        try {
            Files.writeString(fs.dir.resolve("other"), "x");
            assertThat(held.await(30, TimeUnit.SECONDS)).isTrue();
            // About 4,000 close-after-write events of 24 bytes, written well within the 2 s a batch may take.
            Sh.ok("sh", "-c", "cd " + fs.dir + " && i=0; while [ $i -lt 4000 ]; do echo x > w$i; i=$((i+1)); done");
            eventually(() -> assertThat(health.render()).startsWith("modification-watcher-behind filesystems since ")
                    .contains("KiB of events waiting"));
            assertThat(health.ignoreMarksSuspended()).isTrue();
            eventually(() -> {
                cat(f);
                assertThat(decider.askedAbout("cache-b")).as("the old mark is gone").hasSizeGreaterThan(1);
            });
        } finally {
            engine.watcherFault = () -> { };
            release.countDown();
        }
        eventually(() -> assertThat(health.render()).isEqualTo("ok\n"));
        assertThat(health.ignoreMarksSuspended()).isFalse();
    }

    /**
     * A tmpfs marked by a new engine ({@link #engine}, its decider {@link #decider}) whose file
     * {@code name} was opened twice: judged once, then answered by its ignore mark.
     */
    private Path markedFile(String name, ModificationListener listener, Health health) throws Exception {
        fs = new TmpfsMount(tmp.resolve("fs"));
        Path f = Files.writeString(fs.dir.resolve(name), "v1\n");
        decider = new NameDecider();
        engine = FanotifyEngine.start(decider, EngineConfig.defaults(), listener, health);
        engine.markFilesystem(fs.dir);
        decider.onCache = e -> engine.ignoreUntilModified(e);
        cat(f);
        cat(f);
        assertThat(decider.askedAbout(name)).as("ignore-marked after the first open").hasSize(1);
        return f;
    }

    private static void cat(Path f) throws Exception {
        assertThat(catOut(f)).isNotEmpty();
    }

    private static String catOut(Path f) throws Exception {
        Sh.Result r = Sh.run("cat", f.toString());
        assertThat(r.exit()).isZero();
        return r.output();
    }


}
