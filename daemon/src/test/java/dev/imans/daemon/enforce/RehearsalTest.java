package dev.imans.daemon.enforce;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.imans.daemon.Eventually;
import dev.imans.daemon.Log;
import dev.imans.ns.AppraiseSetting;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;

/**
 * The start's rehearsal: real opens by real processes through real overlays, judged by a private instance
 * of the engines that reaches nothing of the host's and leaves nothing behind.
 */
class RehearsalTest {
    /** The process's fanotify groups (the private engines' included, while they run). */
    private static long fanotifyGroups() throws IOException {
        return Descriptors.count("anon_inode:[fanotify]"::equals);
    }

    private static long children() {
        return ProcessHandle.current().descendants().count();
    }

    @Test
    void itJudgesEveryOpenOfItsOwnFilesAndMarksNothingElse() throws Exception {
        long groups = fanotifyGroups();
        long children = children();
        Rehearsal.Result r = Rehearsal.run(EnforcementConfig.defaults(), () -> false);

        // Each container's first read of every layer file and its exec of cat, and the layer read directly:
        // the second read through the first overlay is answered by ignore marks.
        long expected = (long) Rehearsal.CONTAINERS * (Rehearsal.FILES + 1) + Rehearsal.FILES;
        assertThat(r.events()).isBetween(expected, expected + 100);
        assertThat(r.denied()).isZero();
        // Every file passed (the rest, /null's open, is allowed as a device, not counted as a verdict).
        assertThat(r.allowed()).isGreaterThanOrEqualTo(expected);
        // The four later overlays took the first one's verdicts, as a second container of an image does.
        assertThat(r.sharedLayerFiles()).isGreaterThanOrEqualTo((long) (Rehearsal.CONTAINERS - 1) * Rehearsal.FILES);
        // Its tmpfs and its overlays: none of the host's filesystems was in its namespace to be marked.
        assertThat(r.filesystemsMarked()).isEqualTo(1 + Rehearsal.CONTAINERS);
        assertThat(fanotifyGroups()).isEqualTo(groups);
        Eventually.eventually(() -> assertThat(children()).isLessThanOrEqualTo(children));
    }

    @Test
    void aStopEndsItAtOnceAndLeavesNothing() throws Exception {
        long children = children();
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> Rehearsal.run(EnforcementConfig.defaults(), () -> true))
                .isInstanceOfAny(IOException.class, InterruptedException.class);
        assertThat((System.nanoTime() - t0) / 1_000_000_000).isLessThan(15);
        Eventually.eventually(() -> assertThat(children()).isLessThanOrEqualTo(children));
    }

    @Test
    void aDaemonRehearsesAtStartAndNothingOfItReachesItsOwnState() throws Exception {
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream before = Log.redirect(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try (DaemonFixture d = new DaemonFixture(AppraiseSetting.ENFORCE,
                c -> c.withEnforcement(c.enforcement().orElseThrow().withRehearsal(true)))) {
            d.enforcement().awaitWarmup();
            String log = captured.toString(StandardCharsets.UTF_8);
            assertThat(log).containsPattern("warm-up done in \\d+ ms, \\d+ events rehearsed \\(\\d+ allowed, 0 denied");
            // Its routine lines are debug lines, behind a prefix that says whose they are.
            assertThat(log).doesNotContain("info: warm-up rehearsal:").doesNotContain("enforcing on tmpfs /proc/");
            assertThat(d.enforcement().engine().metrics().events()).isZero();
            assertThat(d.enforcement().overlayEngine().metrics().events()).isZero();
            assertThat(d.enforcement().metrics().appraisals.sum()).isZero();
            assertThat(d.daemon.namespaces().ids()).isEmpty();
            assertThat(d.daemon.health().active()).isEmpty();
            assertThat(d.auditLog).satisfiesAnyOf(p -> assertThat(p).doesNotExist(), p -> assertThat(p).isEmptyFile());
        } finally {
            Log.redirect(before);
        }
    }
}
