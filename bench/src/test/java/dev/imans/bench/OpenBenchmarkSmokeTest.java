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
        // The table, with the start benchmark's columns (times made up here: StartBenchmark runs python3
        // in containers, minutes of work, so bench/run.sh runs it, not the suite).
        var ms = new java.util.EnumMap<StartBenchmark.Judge, Map<StartBenchmark.Start, Double>>(StartBenchmark.Judge.class);
        double t = 100;
        for (StartBenchmark.Judge j : StartBenchmark.Judge.values()) {
            var byStart = new java.util.EnumMap<StartBenchmark.Start, Double>(StartBenchmark.Start.class);
            for (StartBenchmark.Start s : StartBenchmark.Start.values()) {
                byStart.put(s, t);
                t += 10;
            }
            ms.put(j, byStart);
        }
        var out = new java.io.ByteArrayOutputStream();
        java.io.PrintStream was = System.out;
        System.setOut(new java.io.PrintStream(out, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            OpenBenchmark.report(results, new StartBenchmark.Medians(ms));
        } finally {
            System.setOut(was);
        }
        List<String> lines = out.toString(java.nio.charset.StandardCharsets.UTF_8).lines()
                .filter(l -> l.startsWith("| ")).toList();
        int columns = 1 + 4 * BenchNamespace.Fs.values().length + 2 * StartBenchmark.Start.values().length;
        assertThat(lines.getFirst()).contains("start of python3, first start, container 2 (same image) (ms)")
                .contains("start of java -version, first start, container 2 (same image) (ms)");
        assertThat(lines.stream().filter(l -> l.split("\\|", -1).length - 2 == columns).count())
                .as("every row of the first table has every column").isEqualTo(OpenBenchmark.Config.values().length + 2);
        assertThat(lines).anyMatch(l -> l.startsWith("| no listener |")
                && l.endsWith(" 100 | 1.00 | 110 | 1.00 | 120 | 1.00 | 130 | 1.00 | 140 | 1.00 | 150 | 1.00 |"));
        // C SHA-256 took 160 to 210 ms where no listener took 100 to 150.
        assertThat(lines).anyMatch(l -> l.startsWith("| C listener: SHA-256")
                && l.endsWith(" 160 | 1.60 | 170 | 1.55 | 180 | 1.50 | 190 | 1.46 | 200 | 1.43 | 210 | 1.40 |"));
        assertThat(lines).anyMatch(l -> l.startsWith("| imans appraising every file, daemon warmed on another image |")
                && l.endsWith(" 280 | 2.80 | 290 | 2.64 | 300 | 2.50 | 310 | 2.38 | 320 | 2.29 | 330 | 2.20 |"));
        assertThat(lines).anyMatch(l -> l.startsWith("| imans, no policy for the namespace |")
                && l.endsWith(" — | — |".repeat(StartBenchmark.Start.values().length)));
    }
}
