package dev.imans.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imans.linux.UnixDatagram;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code imans daemon} as an operator runs it: under systemd (sd_notify over a real datagram socket the
 * test binds, the journal's stream detected from its inode), with a config file, and scraped over HTTP.
 */
class DaemonOperationsTest {
    private static final Pattern METRICS_AT = Pattern.compile("metrics at http://127\\.0\\.0\\.1:(\\d+)/metrics");
    private final Path dir = Path.of("/run/imans-test-" + UUID.randomUUID());

    @AfterEach
    void cleanUp() throws IOException {
        if (Files.exists(dir)) {
            try (var s = Files.walk(dir)) {
                for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private static List<String> drain(UnixDatagram socket, int waitMillis) throws IOException {
        List<String> out = new ArrayList<>();
        Optional<byte[]> m;
        while ((m = socket.receive(4096, waitMillis)).isPresent()) {
            out.add(new String(m.get(), StandardCharsets.UTF_8));
        }
        return out;
    }

    @Test
    void readyOnlyOnceServingThenWatchdogPingsThenStopping() throws Exception {
        Files.createDirectories(dir);
        String address = dir.resolve("notify").toString();
        try (UnixDatagram socket = UnixDatagram.open()) {
            socket.bind(address);
            try (DaemonProcess d = new DaemonProcess(Map.of("NOTIFY_SOCKET", address, "WATCHDOG_USEC", "300000"),
                    false)) {
                Optional<byte[]> first = socket.receive(4096, 30_000);
                assertThat(first).as(d.log()).isPresent();
                // READY=1 comes only once the control filesystem is served.
                assertThat(d.control.resolve("namespaces")).exists();
                String ready = new String(first.get(), StandardCharsets.UTF_8);
                assertThat(ready.split("\n")).contains("READY=1", "MAINPID=" + d.pid());
                assertThat(ready).containsPattern("STATUS=enforcing on \\d+ filesystem\\(s\\), 0 namespace\\(s\\)"
                        + " registered; health ok");

                long start = System.nanoTime();
                int pings = 0;
                while (System.nanoTime() - start < TimeUnit.MILLISECONDS.toNanos(1500)) {
                    Optional<byte[]> m = socket.receive(4096, 1000);
                    if (m.isPresent() && new String(m.get(), StandardCharsets.UTF_8).contains("WATCHDOG=1")) {
                        pings++;
                    }
                }
                // Every 150 ms (half of WATCHDOG_USEC): about 10 in 1.5 s; a loaded machine may lose a few.
                assertThat(pings).isGreaterThanOrEqualTo(4);

                d.signal("TERM");
                assertThat(d.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
                List<String> rest = drain(socket, 200);
                assertThat(rest).anySatisfy(m -> assertThat(m).startsWith("STOPPING=1\n"));
            }
        }
    }

    @Test
    void noWatchdogPingsWhenTheyAreMeantForAnotherProcess() throws Exception {
        Files.createDirectories(dir);
        String address = "@imans-test-" + UUID.randomUUID();
        try (UnixDatagram socket = UnixDatagram.open()) {
            socket.bind(address);
            try (DaemonProcess d = new DaemonProcess(Map.of("NOTIFY_SOCKET", address, "WATCHDOG_USEC", "200000",
                    "WATCHDOG_PID", "1"), true)) {
                List<String> got = drain(socket, 1000);
                assertThat(got).isNotEmpty().first().asString().startsWith("READY=1\n");
                assertThat(got).noneSatisfy(m -> assertThat(m).contains("WATCHDOG=1"));
            }
        }
    }

    @Test
    void underTheJournalLinesCarryPriorityPrefixesInsteadOfTimestamps() throws Exception {
        try (DaemonProcess plain = new DaemonProcess(Map.of("JOURNAL_STREAM", "1:1"), true)) {
            // A JOURNAL_STREAM that is not standard error's (inherited, then redirected) changes nothing.
            assertThat(plain.log()).containsPattern("(?m)^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3}"
                    + " imans\\[\\d+\\] info: starting: ");
        }
        Files.createDirectories(dir);
        String address = dir.resolve("notify").toString();
        try (UnixDatagram socket = UnixDatagram.open()) {
            socket.bind(address);
            try (DaemonProcess d = new DaemonProcess(Map.of("JOURNAL_STREAM", DaemonProcess.OWN_LOG,
                    "NOTIFY_SOCKET", address), true, "--log-level", "debug")) {
                d.signal("ALRM");
                DaemonProcess.await("the warning", () -> d.log().contains("<4>received SIGALRM: ignored"));
                String text = d.log();
                assertThat(text).contains("<6>starting: control ", "<6>ready: ", "<7>sd_notify: READY=1");
                for (String line : text.split("\n")) {
                    assertThat(line).as("every line has a priority and no timestamp").matches("<[3467]>.*");
                }
            }
        }
    }

    @Test
    void theConfigFileSetsWhatTheCommandLineDoesNotAndMetricsAreScrapedOverHttp() throws Exception {
        Path conf = Files.createDirectories(dir).resolve("imans.conf");
        Files.writeString(conf, """
                # operators' settings
                metrics-listen = 0
                log-level = error

                audit-kmsg = false
                """);
        try (DaemonProcess d = new DaemonProcess(Map.of(), true, "--config", conf.toString(), "--log-level", "info");
                MountNamespace ns = new MountNamespace()) {
            // The command line's info level won over the file's error: info lines are there.
            Matcher at = METRICS_AT.matcher(d.log());
            assertThat(at.find()).as(d.log()).isTrue();
            URI uri = URI.create("http://127.0.0.1:" + at.group(1) + "/metrics");
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

            HttpResponse<String> first = http.send(HttpRequest.newBuilder(uri).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(first.statusCode()).isEqualTo(200);
            assertThat(first.headers().firstValue("Content-Type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
            assertThat(first.body()).contains("# HELP imans_permission_denials_total ",
                    "# TYPE imans_permission_denials_total counter", "# TYPE imans_decision_latency_seconds histogram");
            assertThat(sample(first.body(), "imans_namespaces_registered")).isZero();
            assertThat(Files.readString(d.control.resolve(".imans/metrics")))
                    .contains("# TYPE imans_namespaces_registered gauge");

            assertThat(ns.sh("echo secret > /tmp/f").rc()).isZero();
            Files.writeString(d.control.resolve("namespaces"), ns.nsid + "\n");
            Path policy = d.control.resolve(ns.nsid + "/policy");
            Files.writeString(policy, "appraise fsmagic=0x01021994\n");
            Tools.Result r = ns.sh("cat /tmp/f");
            assertThat(r.err()).contains("Operation not permitted");

            // The deny is counted once its answer is written and its record once the writer thread wrote it,
            // both possibly just after cat saw its refusal.
            String after = "";
            for (int i = 0; i < 100; i++) {
                after = http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString()).body();
                if (sample(after, "imans_permission_answers_total{engine=\"filesystems\",verdict=\"deny\"}") >= 1
                        && sample(after, "imans_audit_records_written_total") >= 2) {
                    break;
                }
                Thread.sleep(50);
            }
            assertThat(sample(after, "imans_namespaces_registered")).isEqualTo(1);
            assertThat(sample(after, "imans_policy_rules{scope=\"" + ns.nsid + "\"}")).isEqualTo(1);
            assertThat(sample(after, "imans_permission_denials_total{cause=\"missing-hash\"}")).isEqualTo(1);
            assertThat(sample(after, "imans_permission_answers_total{engine=\"filesystems\",verdict=\"deny\"}")).isEqualTo(1);
            assertThat(sample(after, "imans_audit_records_written_total")).isGreaterThanOrEqualTo(2);

            HttpResponse<String> other = http.send(HttpRequest.newBuilder(uri.resolve("/")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(other.statusCode()).isEqualTo(404);
            HttpResponse<String> post = http.send(HttpRequest.newBuilder(uri)
                    .POST(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(post.statusCode()).isEqualTo(405);
        }
    }

    @Test
    void aBadConfigFileStopsTheDaemonBeforeAnythingStarts() throws Exception {
        Path conf = Files.createDirectories(dir).resolve("imans.conf");
        Files.writeString(conf, "log-level = info\nwatch-filesystems = tmpfs\n");
        CliRun unknown = CliRun.of("daemon", "--config", conf.toString(), "--control", "/nonexistent/ima");
        assertThat(unknown.exitCode()).isEqualTo(2);
        assertThat(unknown.stderr()).contains(conf + ": unknown setting 'watch-filesystems'");

        Files.writeString(conf, "audit-kmsg = maybe\n");
        CliRun flag = CliRun.of("daemon", "--config", conf.toString(), "--control", "/nonexistent/ima");
        assertThat(flag.exitCode()).isEqualTo(2);
        assertThat(flag.stderr()).contains("'audit-kmsg' takes true or false");

        Files.writeString(conf, "--hash = sha256\n");
        CliRun dashes = CliRun.of("daemon", "--config", conf.toString(), "--control", "/nonexistent/ima");
        assertThat(dashes.exitCode()).isEqualTo(2);
        assertThat(dashes.stderr()).contains(conf + ":1: '--hash' is not an option name");

        Files.writeString(conf, "hash = sha3000\n");
        CliRun value = CliRun.of("daemon", "--config", conf.toString(), "--control", "/nonexistent/ima");
        assertThat(value.exitCode()).isEqualTo(2);
        assertThat(value.stderr()).contains("unknown hash algorithm 'sha3000'");

        // A daemon setting written below the hook's header would be skipped: the file is refused instead.
        Files.writeString(conf, "log-level = info\n[oci-hook]\ndefault-policy = /etc/imans/default.policy\n"
                + "watch-fs = tmpfs\n");
        CliRun section = CliRun.of("daemon", "--config", conf.toString(), "--control", "/nonexistent/ima");
        assertThat(section.exitCode()).isEqualTo(2);
        assertThat(section.stderr()).contains(conf + ": unknown setting 'watch-fs' in section [oci-hook]");

        CliRun missing = CliRun.of("daemon", "--config", dir.resolve("absent.conf").toString());
        assertThat(missing.exitCode()).isEqualTo(2);
        assertThat(missing.stderr()).contains("absent.conf: no such file");

        CliRun level = CliRun.of("daemon", "--config", "/dev/null", "--log-level", "chatty");
        assertThat(level.exitCode()).isEqualTo(2);
        assertThat(level.stderr()).contains("--log-level must be one of error, warn, info, debug");
    }

    private static double sample(String text, String key) {
        for (String line : text.split("\n")) {
            if (line.startsWith(key + " ")) {
                return Double.parseDouble(line.substring(key.length() + 1));
            }
        }
        throw new AssertionError("no sample " + key);
    }
}
