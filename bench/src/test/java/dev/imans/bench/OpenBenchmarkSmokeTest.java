package dev.imans.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The end-to-end benchmark with a tiny workload: every configuration runs on every filesystem and every
 * open succeeds.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class OpenBenchmarkSmokeTest {
    @Test
    void everyConfigurationOpensEveryFile() throws Exception {
        Map<BenchNamespace.Fs, Map<OpenBenchmark.Config, List<double[]>>> results = new OpenBenchmark(200, 4096, 1).run();
        assertThat(results).containsOnlyKeys(BenchNamespace.Fs.values());
        for (Map<OpenBenchmark.Config, List<double[]>> byConfig : results.values()) {
            assertThat(byConfig).containsOnlyKeys(OpenBenchmark.Config.values());
            for (List<double[]> runs : byConfig.values()) {
                assertThat(runs).hasSize(1);
                assertThat(runs.getFirst()[0]).isPositive();
                assertThat(runs.getFirst()[1]).isPositive();
            }
        }
    }
}
