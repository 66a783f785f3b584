package dev.imans.daemon.enforce;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imans.daemon.fanotify.EngineConfig;
import dev.imans.daemon.fanotify.FanotifyEngine;
import dev.imans.daemon.fanotify.ModificationListener;
import dev.imans.daemon.fanotify.Verdict;
import dev.imans.daemon.health.Condition;
import dev.imans.daemon.health.Degradation;
import dev.imans.daemon.health.Health;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** A huge page size whose hugetlbfs cannot be marked is a degraded state, not only a log line. */
class MemfdFilesystemTest {
    @Test
    void aHugetlbfsThatCannotBeMarkedIsReported() throws Exception {
        List<String> sizes;
        try (var dirs = Files.list(Path.of("/sys/kernel/mm/hugepages"))) {
            sizes = dirs.map(d -> d.getFileName().toString()).filter(n -> n.matches("hugepages-\\d+kB"))
                    .map(n -> n.substring("hugepages-".length(), n.length() - 2) + " kB").sorted().toList();
        } catch (java.io.IOException e) {
            sizes = List.of();
        }
        Assumptions.assumeFalse(sizes.isEmpty(), "this kernel has no huge pages");
        // A stopped engine refuses every mark, as a kernel that refused the filesystem would.
        FanotifyEngine engine = FanotifyEngine.start(e -> Verdict.ALLOW, EngineConfig.defaults(),
                ModificationListener.NONE);
        engine.close();
        try (Health health = new Health()) {
            MemfdFilesystem.Hugetlb h = MemfdFilesystem.markHugetlb(engine, new FilesystemTable(), Set.of(), health);
            assertThat(h.marked()).isEmpty();
            assertThat(h.unmarked()).containsExactlyInAnyOrderElementsOf(sizes);
            // A degraded state per size, as .imans/health, imans status and the metrics show them.
            assertThat(health.active()).extracting(Degradation::condition).containsOnly(Condition.HUGETLBFS_UNMARKED);
            assertThat(health.active()).extracting(Degradation::subject).containsExactlyInAnyOrderElementsOf(sizes);
            assertThat(health.render()).contains("hugetlbfs-unmarked " + sizes.getFirst());
            // Not wanted: nothing tried, nothing missing.
            try (Health none = new Health()) {
                assertThat(MemfdFilesystem.markHugetlb(engine, new FilesystemTable(), Set.of("ext4"), none))
                        .isEqualTo(MemfdFilesystem.Hugetlb.NONE);
                assertThat(none.active()).isEmpty();
            }
        }
    }
}
