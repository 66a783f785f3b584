package dev.imans.bench;

import dev.imans.daemon.fanotify.EngineMetrics;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The daemon as it runs in production: {@code bin/imans daemon} in a JVM of its own, with the launcher's
 * JVM settings, so that what a benchmark measures shares no heap, collections or compiler queue with
 * the benchmark's own JVM. Ready once its start's warm-up is over (its log says so), as a daemon that
 * starts before the containers it judges is.
 */
final class DaemonProcess implements AutoCloseable {
    private static final long READY_SECONDS = 120;

    private final Process process;
    private final Path control;
    private final List<String> log = new ArrayList<>();
    private final CountDownLatch ready = new CountDownLatch(1);

    /** Starts {@code bin/imans daemon} with {@code args} after its own base options, and waits until it is ready. */
    DaemonProcess(Path base, List<String> args) throws IOException, InterruptedException {
        Files.createDirectories(base);
        control = base.resolve("ima");
        List<String> cmd = new ArrayList<>(List.of(launcher().toString(), "daemon", "--config", "/dev/null",
                "--no-key-dir", "--control", control.toString(), "--state", base.resolve("state").toString(),
                "--audit-log", base.resolve("audit.log").toString()));
        cmd.addAll(args);
        process = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        Thread.ofPlatform().daemon(true).name("imans-bench-daemon-log").start(this::drain);
        if (!ready.await(READY_SECONDS, TimeUnit.SECONDS) || !process.isAlive()) {
            close();
            throw new IOException("the daemon did not get ready: " + String.join("\n", logLines()));
        }
    }

    /** bin/imans beside bench/native (-Dimans.bench.native, set by bench/run.sh). */
    private static Path launcher() {
        return NativeTools.sourceDir().getParent().getParent().resolve("bin/imans");
    }

    private void drain() {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                synchronized (log) {
                    log.add(line);
                }
                // The warm-up logs its end, or that it stopped (the first opens are then judged by slower code).
                if (line.contains("warm-up done") || line.contains("warm-up stopped")) {
                    ready.countDown();
                }
            }
        } catch (IOException e) {
            // The process ended; the constructor's wait or close reports it.
        }
        ready.countDown();
    }

    private List<String> logLines() {
        synchronized (log) {
            return List.copyOf(log);
        }
    }

    Path control() {
        return control;
    }

    /** The process's id, for its CPU time ({@code /proc/PID/stat}). */
    long pid() {
        return process.pid();
    }

    /** One engine's latency histogram from a scrape of {@code .imans/metrics}. */
    EngineMetrics.Histogram latencies(String engine) throws IOException {
        List<Double> bounds = new ArrayList<>();
        List<Long> cumulative = new ArrayList<>();
        double sum = 0;
        String prefix = "imans_decision_latency_seconds_bucket{engine=\"" + engine + "\",le=\"";
        for (String line : Files.readAllLines(control.resolve(".imans/metrics"), StandardCharsets.UTF_8)) {
            if (line.startsWith(prefix)) {
                String le = line.substring(prefix.length(), line.indexOf('"', prefix.length()));
                // The histogram's last cumulative count is every value's, the +Inf bucket.
                if (!le.equals("+Inf")) {
                    bounds.add(Double.parseDouble(le));
                }
                cumulative.add(Long.parseLong(line.substring(line.lastIndexOf(' ') + 1)));
            } else if (line.startsWith("imans_decision_latency_seconds_sum{engine=\"" + engine + "\"}")) {
                sum = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return new EngineMetrics.Histogram(bounds.stream().mapToDouble(Double::doubleValue).toArray(),
                cumulative.stream().mapToLong(Long::longValue).toArray(), sum);
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
