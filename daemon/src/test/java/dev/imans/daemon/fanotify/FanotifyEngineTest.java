package dev.imans.daemon.fanotify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.imans.linux.Stat;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The engine against the real kernel: a private tmpfs, real processes, real fanotify groups (root). */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class FanotifyEngineTest {
    @TempDir
    Path tmp;
    TmpfsMount fs;
    Path dir;
    NameDecider decider;
    FanotifyEngine engine;
    final LinkedBlockingQueue<long[]> modified = new LinkedBlockingQueue<>();

    @BeforeEach
    void setUp() throws Exception {
        fs = new TmpfsMount(tmp.resolve("fs"));
        dir = fs.dir;
        decider = new NameDecider();
    }

    @AfterEach
    void tearDown() throws Exception {
        try {
            if (engine != null) {
                engine.close();
            }
        } finally {
            fs.close();
        }
    }

    private void start(EngineConfig config) throws Exception {
        engine = FanotifyEngine.start(decider, config, (dev, ino, mask) -> modified.add(new long[] {dev, ino, mask}));
        assertThat(engine.markFilesystem(dir)).isEqualTo(MarkType.FILESYSTEM);
    }

    private void start() throws Exception {
        start(EngineConfig.defaults());
    }

    private Path file(String name, String content) throws Exception {
        return Files.writeString(dir.resolve(name), content);
    }

    @Test
    void deniesByNameAndAllowsTheRest() throws Exception {
        file("deny-secret", "no\n");
        file("plain", "yes\n");
        start();
        Sh.Result denied = Sh.run("cat", dir.resolve("deny-secret").toString());
        assertThat(denied.exit()).isNotZero();
        assertThat(denied.output()).contains("Operation not permitted");
        Sh.Result allowed = Sh.run("cat", dir.resolve("plain").toString());
        assertThat(allowed).isEqualTo(new Sh.Result(0, "yes\n"));
        assertThat(decider.asked).contains("deny-secret", "plain");
        eventually(() -> assertThat(engine.metrics().denied()).isEqualTo(1));
        eventually(() -> assertThat(engine.metrics().allowed()).isGreaterThanOrEqualTo(1));
        assertThat(engine.reportsPidfd()).as("no pidfd is made per event").isFalse();
    }

    @Test
    void execOfADeniedScriptFails() throws Exception {
        Path bad = file("deny-script", "#!/bin/sh\necho ran\n");
        Path good = file("good-script", "#!/bin/sh\necho ran\n");
        Files.setPosixFilePermissions(bad, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(good, PosixFilePermissions.fromString("rwxr-xr-x"));
        start();
        Sh.Result r = Sh.run("/bin/sh", "-c", bad.toString());
        assertThat(r.exit()).isEqualTo(126);
        assertThat(r.output()).contains("Operation not permitted").doesNotContain("ran");
        assertThat(Sh.run("/bin/sh", "-c", good.toString())).isEqualTo(new Sh.Result(0, "ran\n"));
        assertThat(decider.asked).contains("deny-script", "good-script");
    }

    @Test
    void aDeferredDecisionDoesNotDelayAFastOne() throws Exception {
        file("slow-1", "slow\n");
        file("fast-1", "fast\n");
        start();
        Process slow = Sh.start("cat", dir.resolve("slow-1").toString());
        awaitAsked("slow-1");
        Sh.Result fast = Sh.run("cat", dir.resolve("fast-1").toString());
        assertThat(fast).isEqualTo(new Sh.Result(0, "fast\n"));
        assertThat(slow.isAlive()).as("slow open still waits for its worker").isTrue();
        decider.slowRelease.countDown();
        assertThat(Sh.await(slow, "cat slow-1")).isEqualTo(new Sh.Result(0, "slow\n"));
        assertThat(decider.answered).containsSubsequence("fast-1", "slow-1");
        eventually(() -> assertThat(engine.metrics().deferred()).isEqualTo(1));
    }

    @Test
    void anIgnoreMarkedFileIsNotSeenUntilWritten() throws Exception {
        Path f = file("cache-a", "v1\n");
        start();
        decider.onCache = e -> assertThat(engine.ignoreUntilModified(e)).isZero();
        assertThat(Sh.run("cat", f.toString()).output()).isEqualTo("v1\n");
        assertThat(Sh.run("cat", f.toString()).output()).isEqualTo("v1\n");
        assertThat(decider.askedAbout("cache-a")).hasSize(1);
        eventually(() -> assertThat(engine.metrics().ignoreMarksAdded()).isEqualTo(1));

        Sh.ok("sh", "-c", "echo v2 >> " + f);
        awaitModified(f);
        assertThat(Sh.run("cat", f.toString()).output()).isEqualTo("v1\nv2\n");
        assertThat(decider.askedAbout("cache-a")).hasSize(2);
    }

    @Test
    void aSharedMappingWriteIsSeenWhileTheMappingLives() throws Exception {
        Path f = file("cache-m", "aaaa");
        start();
        decider.onCache = e -> engine.ignoreUntilModified(e);
        Sh.run("cat", f.toString());
        Sh.run("cat", f.toString());
        assertThat(decider.askedAbout("cache-m")).hasSize(1);

        // Mapping writes raise no FS_MODIFY and the kernel keeps the ignore mark through them; the open
        // that made the mapping left a writer, which the open watch sees, so the mark goes first.
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment map;
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                map = ch.map(FileChannel.MapMode.READ_WRITE, 0, 4, arena);
            }
            eventually(() -> assertThat(engine.metrics().ignoreMarksRemoved()).isGreaterThanOrEqualTo(1));
            map.set(ValueLayout.JAVA_BYTE, 0, (byte) 'Z');
            map.force();
            assertThat(Sh.run("cat", f.toString()).output()).isEqualTo("Zaaa");
            assertThat(decider.askedAbout("cache-m")).as("seen again while the mapping lives").hasSize(2);
            assertThat(modified).as("caches were told").isNotEmpty();
        }
    }

    @Test
    void plainReadsOfAnIgnoreMarkedFileKeepTheMark() throws Exception {
        Path f = file("cache-r", "r");
        start();
        decider.onCache = e -> engine.ignoreUntilModified(e);
        for (int i = 0; i < 5; i++) {
            Sh.run("cat", f.toString());
        }
        Thread.sleep(200);
        assertThat(decider.askedAbout("cache-r")).hasSize(1);
        assertThat(engine.metrics().ignoreMarksRemoved()).isZero();
        assertThat(modified).isEmpty();
    }

    @Test
    void noIgnoreMarkIsAddedWhileAWriterHasTheFileOpen() throws Exception {
        Path f = file("cache-w", "x");
        start();
        decider.onCache = e -> assertThat(engine.ignoreUntilModified(e)).isZero();
        try (FileChannel writer = FileChannel.open(f, StandardOpenOption.WRITE)) {
            Sh.run("cat", f.toString());
            Sh.run("cat", f.toString());
            assertThat(decider.askedAbout("cache-w")).as("the kernel skipped the marks silently").hasSize(2);
        }
        awaitModified(f);
        Sh.run("cat", f.toString());
        Sh.run("cat", f.toString());
        assertThat(decider.askedAbout("cache-w")).hasSize(3);
    }

    @Test
    void theReaderAllocatesNothingPerEvent() throws Exception {
        Path f = file("plain-alloc", "x");
        decider = null;
        engine = FanotifyEngine.start(event -> Verdict.ALLOW, EngineConfig.defaults(), ModificationListener.NONE);
        engine.markFilesystem(dir);
        com.sun.management.ThreadMXBean mx =
                (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long tid = engine.readerThreadId();
        // The shell's own redirection opens the file without a fork: many events, quickly. Enough of them
        // that the reader loop is compiled (the interpreter allocates inside method-handle plumbing).
        Sh.ok("sh", "-c", "for i in $(seq 30000); do : < " + f + "; done");
        eventually(() -> assertThat(engine.metrics().allowed()).isGreaterThanOrEqualTo(30000));
        long before = mx.getThreadAllocatedBytes(tid);
        long eventsBefore = engine.metrics().events();
        Sh.ok("sh", "-c", "for i in $(seq 5000); do : < " + f + "; done");
        eventually(() -> assertThat(engine.metrics().events() - eventsBefore).isGreaterThanOrEqualTo(5000));
        long perEvent = (mx.getThreadAllocatedBytes(tid) - before) / (engine.metrics().events() - eventsBefore);
        assertThat(perEvent).as("bytes allocated by the reader per event").isLessThan(8);
    }

    @Test
    void flushDropsEveryIgnoreMark() throws Exception {
        Path f = file("cache-f", "x");
        start();
        decider.onCache = e -> engine.ignoreUntilModified(e);
        Sh.run("cat", f.toString());
        Sh.run("cat", f.toString());
        assertThat(decider.askedAbout("cache-f")).hasSize(1);
        engine.flushIgnoreMarks();
        Sh.run("cat", f.toString());
        assertThat(decider.askedAbout("cache-f")).hasSize(2);
    }

    @Test
    void fifosAndDevicesNeverReachTheDecider() throws Exception {
        Path fifo = dir.resolve("deny-fifo");
        Sh.ok("mkfifo", fifo.toString());
        Path dev = dir.resolve("deny-null");
        Sh.ok("mknod", dev.toString(), "c", "1", "3");
        start();
        Process reader = Sh.start("cat", fifo.toString());
        Sh.ok("sh", "-c", "echo through > " + fifo);
        assertThat(Sh.await(reader, "cat fifo")).isEqualTo(new Sh.Result(0, "through\n"));
        assertThat(Sh.run("cat", dev.toString())).isEqualTo(new Sh.Result(0, ""));
        Sh.ok("sh", "-c", "echo x > " + dev);
        // Linux 6.18 raises no permission events for FIFOs and device nodes at all (measured here: the
        // reader saw none); the reader's "not a regular file: allow at once" rule covers kernels that do.
        assertThat(decider.asked).doesNotContain("deny-fifo", "deny-null");
        eventually(() -> assertThat(engine.metrics().decisionErrors()).isZero());
    }

    @Test
    void stoppingReleasesAnOpenerWaitingOnAHungWorker() throws Exception {
        file("hang-1", "released\n");
        start(EngineConfig.defaults().withShutdownTimeout(Duration.ofMillis(500)));
        Process opener = Sh.start("cat", dir.resolve("hang-1").toString());
        assertThat(decider.hangEntered.await(20, TimeUnit.SECONDS)).isTrue();
        assertThat(opener.isAlive()).isTrue();
        engine.close();
        assertThat(Sh.await(opener, "cat hang-1")).isEqualTo(new Sh.Result(0, "released\n"));
        eventually(() -> assertThat(engine.metrics().releasedAtShutdown()).isEqualTo(1));
    }

    @Test
    void stoppingReleasesAnOpenerWaitingOnAHungFastPath() throws Exception {
        file("sync-hang-1", "released\n");
        start(EngineConfig.defaults().withShutdownTimeout(Duration.ofMillis(500)));
        Process opener = Sh.start("cat", dir.resolve("sync-hang-1").toString());
        assertThat(decider.hangEntered.await(20, TimeUnit.SECONDS)).isTrue();
        engine.close();
        assertThat(Sh.await(opener, "cat sync-hang-1")).isEqualTo(new Sh.Result(0, "released\n"));
    }

    @Test
    void ownOpensAreAllowedWithoutAsking() throws Exception {
        Path f = file("deny-own", "mine\n");
        start();
        assertThat(Files.readString(f)).isEqualTo("mine\n");
        assertThat(decider.asked).doesNotContain("deny-own");
        eventually(() -> assertThat(engine.metrics().selfAllowed()).isGreaterThanOrEqualTo(1));
    }

    @Test
    void deciderFailuresFollowThePolicy() throws Exception {
        file("boom-1", "x\n");
        start();
        assertThat(Sh.run("cat", dir.resolve("boom-1").toString()).output()).contains("Operation not permitted");
        eventually(() -> assertThat(engine.metrics().decisionErrors()).isEqualTo(1));
        engine.close();
        decider = new NameDecider();
        start(EngineConfig.defaults().withOnDecisionError(FailurePolicy.ALLOW));
        assertThat(Sh.run("cat", dir.resolve("boom-1").toString())).isEqualTo(new Sh.Result(0, "x\n"));
    }

    @Test
    void aFailingColdPathFollowsThePolicy() throws Exception {
        file("slow-boom", "x\n");
        start();
        assertThat(Sh.run("cat", dir.resolve("slow-boom").toString()).output()).contains("Operation not permitted");
        eventually(() -> assertThat(engine.metrics().decisionErrors()).isEqualTo(1));
    }

    @Test
    void aFullWorkerQueueIsAnsweredAtOnceByTheOverloadPolicy() throws Exception {
        for (String n : new String[] {"slow-1", "slow-2", "slow-3"}) {
            file(n, n + "\n");
        }
        start(EngineConfig.defaults().withWorkers(1).withQueueCapacity(1));
        Process first = Sh.start("cat", dir.resolve("slow-1").toString());
        awaitAsked("slow-1");
        Process second = Sh.start("cat", dir.resolve("slow-2").toString());
        awaitAsked("slow-2");
        Sh.Result third = Sh.run("cat", dir.resolve("slow-3").toString());
        assertThat(third.output()).contains("Operation not permitted");
        decider.slowRelease.countDown();
        assertThat(Sh.await(first, "cat slow-1")).isEqualTo(new Sh.Result(0, "slow-1\n"));
        assertThat(Sh.await(second, "cat slow-2")).isEqualTo(new Sh.Result(0, "slow-2\n"));
        eventually(() -> assertThat(engine.metrics().overloaded()).isEqualTo(1));
        eventually(() -> assertThat(engine.metrics().deferred()).isEqualTo(2));
    }

    @Test
    void unmarkStopsEnforcement() throws Exception {
        file("deny-later", "x\n");
        start();
        assertThat(Sh.run("cat", dir.resolve("deny-later").toString()).exit()).isNotZero();
        assertThat(engine.unmarkFilesystem(dir)).isTrue();
        assertThat(Sh.run("cat", dir.resolve("deny-later").toString())).isEqualTo(new Sh.Result(0, "x\n"));
        assertThat(engine.unmarkFilesystem(dir)).isFalse();
    }

    @Test
    void aBackingCloneThatReusesTheIdOfAMountTheDaemonHadIsStillSilenced() throws Exception {
        Path lower = Files.createDirectories(dir.resolve("lower"));
        Path upper = Files.createDirectories(dir.resolve("upper"));
        Files.createDirectories(dir.resolve("work"));
        Path merged = Files.createDirectories(tmp.resolve("merged"));
        Files.writeString(upper.resolve("plain"), "y\n");
        // Mount ids are handed out lowest first: the daemon learns this mount's id at its start, the mount
        // goes, and the overlay's first private clone, of its upper layer, takes the freed id.
        Path scratch = Files.createDirectories(tmp.resolve("scratch"));
        Sh.ok("mount", "-t", "tmpfs", "scratch", scratch.toString());
        FanotifyEngine overlays = null;
        try {
            engine = FanotifyEngine.start(decider, EngineConfig.defaults(), ModificationListener.NONE);
            overlays = FanotifyEngine.start(new NameDecider(), EngineConfig.defaults(), ModificationListener.NONE,
                    new dev.imans.daemon.health.Health(), FanotifyEngine.Role.OVERLAYS);
            engine.markFilesystem(dir);
            engine.overlayLayers(() -> List.of(lower, dir.resolve("upper")));
            Sh.ok("umount", scratch.toString());
            Sh.ok("mount", "-t", "overlay", "overlay", "-o", "lowerdir=" + lower + ",upperdir=" + dir.resolve("upper")
                    + ",workdir=" + dir.resolve("work"), merged.toString());
            overlays.markFilesystem(merged);
            assertThat(Sh.run("cat", merged.resolve("plain").toString())).isEqualTo(new Sh.Result(0, "y\n"));
            // (mount(8) itself made overlayfs open a probe O_TMPFILE in the work directory.)
            assertThat(decider.asked).as("backing opens judged on the layer").doesNotContain("plain");
            assertThat(engine.metrics().backingMountsIgnored()).isEqualTo(1);
        } finally {
            if (overlays != null) {
                overlays.close();
            }
            engine.close();
            Sh.run("umount", "-l", merged.toString());
            Sh.run("umount", "-l", scratch.toString());
        }
    }

    @Test
    void anOverlayAndItsLayersAreServedByTwoEnginesAndEachOpenIsDecidedOnce() throws Exception {
        Path lower = Files.createDirectories(dir.resolve("lower"));
        Files.createDirectories(dir.resolve("upper"));
        Files.createDirectories(dir.resolve("work"));
        Path merged = Files.createDirectories(tmp.resolve("merged"));
        Files.writeString(lower.resolve("deny-layered"), "x\n");
        Files.writeString(lower.resolve("plain"), "y\n");
        Sh.ok("mount", "-t", "overlay", "overlay", "-o", "lowerdir=" + lower + ",upperdir=" + dir.resolve("upper")
                + ",workdir=" + dir.resolve("work"), merged.toString());
        NameDecider overlayDecider = new NameDecider();
        FanotifyEngine overlays = null;
        try {
            engine = FanotifyEngine.start(decider, EngineConfig.defaults(), ModificationListener.NONE);
            overlays = FanotifyEngine.start(overlayDecider, EngineConfig.defaults(), ModificationListener.NONE,
                    new dev.imans.daemon.health.Health(), FanotifyEngine.Role.OVERLAYS);
            assertThatThrownBy(() -> engine.markFilesystem(merged))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("overlayfs");
            FanotifyEngine o = overlays;
            assertThatThrownBy(() -> o.markFilesystem(dir))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not an overlayfs");
            engine.markFilesystem(dir);
            engine.overlayLayers(() -> List.of(lower, dir.resolve("upper")));
            overlays.markFilesystem(merged);
            assertThat(Sh.run("cat", merged.resolve("deny-layered").toString()).output())
                    .contains("Operation not permitted");
            assertThat(Sh.run("cat", merged.resolve("plain").toString())).isEqualTo(new Sh.Result(0, "y\n"));
            // Each open through the overlay reached the overlays engine once, and the layers' engine never:
            // its backing events were silenced by the ignore mark on overlayfs's private mount.
            assertThat(overlayDecider.asked).containsExactly("deny-layered", "plain");
            assertThat(decider.asked).isEmpty();
            assertThat(engine.metrics().backingMountsIgnored()).isEqualTo(1);
            // The same file opened on its layer is the layers engine's.
            assertThat(Sh.run("cat", lower.resolve("deny-layered").toString()).output())
                    .contains("Operation not permitted");
            assertThat(decider.asked).containsExactly("deny-layered");
        } finally {
            if (overlays != null) {
                overlays.close();
            }
            engine.close();
            Sh.ok("umount", "-l", merged.toString());
        }
    }

    /** Counters are bumped after the answer is written (reply first), so the opener may see its result first. */
    private static void eventually(Runnable assertion) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            try {
                assertion.run();
                return;
            } catch (AssertionError e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(5);
            }
        }
    }

    private void awaitAsked(String name) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!decider.asked.contains(name)) {
            assertThat(System.nanoTime()).as("decider never asked about " + name).isLessThan(deadline);
            Thread.sleep(5);
        }
    }

    private void awaitModified(Path f) throws Exception {
        long ino = Stat.stat(f).ino();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            long[] m = modified.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            assertThat(m).as("no modification reported for " + f).isNotNull();
            if (m[1] == ino && (m[2] & dev.imans.linux.Fanotify.FAN_CLOSE_WRITE) != 0) {
                return;
            }
        }
    }
}
