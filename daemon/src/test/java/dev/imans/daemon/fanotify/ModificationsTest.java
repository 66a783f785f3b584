package dev.imans.daemon.fanotify;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imans.daemon.health.Health;
import dev.imans.linux.FanotifyGroup;
import dev.imans.linux.Fd;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * A deciding thread's catch-up that cannot read the group falls back to the slow path: the caches are
 * emptied, so the decision hashes the file rather than trust a verdict an unread write made stale. The
 * group here is a real one, released under it onto a write-only /dev/null (reads fail with EBADF, and the
 * number cannot pass to another file meanwhile).
 */
class ModificationsTest {
    @Test
    void aCatchUpThatCannotReadTheGroupEmptiesTheCaches() throws Exception {
        FanotifyGroup group = FanotifyGroup.openNotificationGroup();
        LostTrackCounter listener = new LostTrackCounter();
        EngineMetrics metrics = new EngineMetrics();
        Modifications modifications = new Modifications(group,
                new IgnoreMarks(group, group, group, false, metrics, new Health()), listener, metrics);
        try (Modifications.Buffers buffers = new Modifications.Buffers(4096)) {
            modifications.catchUp(buffers);
            assertThat(listener.count()).as("an empty group is read, nothing is lost").isZero();
            try (Fd writeOnly = Fd.open(Path.of("/dev/null"), Fd.O_WRONLY)) {
                group.release(writeOnly.value());
            }
            modifications.catchUp(buffers);
            assertThat(listener.count()).as("EBADF: the caches go").isEqualTo(1);
            assertThat(metrics.modificationCatchUps()).isEqualTo(2);
        } finally {
            group.close();
        }
    }
}
