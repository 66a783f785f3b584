package dev.imans.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.LongStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * Signals sent to a real {@code imans daemon} process: none ends enforcement without a log line, HUP
 * reopens the audit log without losing a record, USR1 reports the state while enforcement goes on.
 */
class DaemonSignalsTest {
    /** Every file on a tmpfs; an unlabelled one is refused (missing-hash). */
    private static final String POLICY = "appraise fsmagic=0x01021994\n";
    private static final Pattern SERIAL = Pattern.compile("audit\\(\\d+\\.\\d+:(\\d+)\\)");

    @Test
    void hupReopensTheAuditLogAndNoRecordIsLost() throws Exception {
        try (DaemonProcess d = new DaemonProcess(); MountNamespace ns = new MountNamespace()) {
            enforce(d, ns);
            Path rotated = d.auditLog.resolveSibling("audit.log.1");
            deny(ns, 3);
            DaemonProcess.await("3 denials in the log", () -> denials(d.auditLog) == 3);
            Files.move(d.auditLog, rotated);
            // Between the rename and the signal, records still go to the renamed file (logrotate's
            // 'create' mode relies on it).
            deny(ns, 2);
            DaemonProcess.await("5 denials in the renamed log", () -> denials(rotated) == 5);
            assertThat(d.auditLog).doesNotExist();

            d.signal("HUP");
            DaemonProcess.await("the reopened log", () -> Files.exists(d.auditLog));
            deny(ns, 4);
            DaemonProcess.await("4 denials in the new log", () -> denials(d.auditLog) == 4);

            assertThat(denials(rotated)).isEqualTo(5);
            List<Long> serials = new ArrayList<>(serials(rotated));
            serials.addAll(serials(d.auditLog));
            // Policy records and denials share one serial counter: every serial appears once, none missing.
            assertThat(serials).containsExactlyElementsOf(LongStream.rangeClosed(1, serials.size()).boxed().toList());
            assertThat(d.log()).contains("received SIGHUP: reopening the audit log", "audit log reopened");
            assertThat(d.process.isAlive()).isTrue();
        }
    }

    /**
     * Started as {@code nohup} or a shell's background job starts it, with HUP and INT ignored: the JVM
     * would register no handler for them and say nothing. HUP still reopens the log (it stops
     * nothing); INT stays ignored, and the log says so.
     */
    @Test
    void signalsInheritedAsIgnoredAreHupHandledAndStopsSaid() throws Exception {
        try (DaemonProcess d = new DaemonProcess(List.of("bash", "-c", "trap '' HUP INT; exec \"$@\"", "bash"),
                java.util.Map.of(), true); MountNamespace ns = new MountNamespace()) {
            enforce(d, ns);
            Matcher ignored = Pattern.compile("SigIgn:\\s+([0-9a-f]+)")
                    .matcher(Files.readString(Path.of("/proc/" + d.process.pid() + "/status")));
            assertThat(ignored.find()).isTrue();
            long mask = Long.parseUnsignedLong(ignored.group(1), 16);
            assertThat(mask & (1L << (2 - 1))).as("SIGINT still ignored").isNotZero();
            assertThat(mask & (1L << (1 - 1))).as("SIGHUP no longer ignored").isZero();
            DaemonProcess.await("the inherited dispositions said", () -> d.log().contains(
                    "SIGHUP was inherited as ignored (nohup?): handled all the same"));
            assertThat(d.log()).contains("inherited as ignored, so left ignored: SIGINT");
            Path rotated = d.auditLog.resolveSibling("audit.log.1");
            Files.move(d.auditLog, rotated);
            d.signal("HUP");
            DaemonProcess.await("the reopened log", () -> Files.exists(d.auditLog));
            deny(ns, 1);
            DaemonProcess.await("a denial in the new log", () -> denials(d.auditLog) == 1);
            d.signal("INT");
            Thread.sleep(500);
            assertThat(d.process.isAlive()).as("an ignored SIGINT stops nothing").isTrue();
            deny(ns, 1);
            DaemonProcess.await("enforcement goes on", () -> denials(d.auditLog) == 2);
        }
    }

    @Test
    void aReopenThatFailsIsAHealthStateAndTheNextHupRecovers() throws Exception {
        try (DaemonProcess d = new DaemonProcess(); MountNamespace ns = new MountNamespace()) {
            enforce(d, ns);
            Path rotated = d.auditLog.resolveSibling("audit.log.1");
            Path health = d.control.resolve(".imans/health");
            Files.move(d.auditLog, rotated);
            // Nothing can be opened where the log was.
            Files.createDirectory(d.auditLog);
            d.signal("HUP");
            DaemonProcess.await("the failed reopen", () -> read(health).startsWith("audit-log-not-reopened since "));
            assertThat(read(health)).contains("cannot reopen " + d.auditLog);
            deny(ns, 2);
            DaemonProcess.await("denials in the old file", () -> denials(rotated) == 2);

            Files.delete(d.auditLog);
            d.signal("HUP");
            DaemonProcess.await("health ok", () -> read(health).equals("ok\n"));
            deny(ns, 1);
            DaemonProcess.await("a denial in the new file", () -> denials(d.auditLog) == 1);
            assertThat(denials(rotated)).isEqualTo(2);
        }
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return "";
        }
    }

    @Test
    void usr1WritesAStateReportAndEnforcementContinues() throws Exception {
        try (DaemonProcess d = new DaemonProcess(); MountNamespace ns = new MountNamespace()) {
            enforce(d, ns);
            deny(ns, 1);
            d.signal("USR1");
            DaemonProcess.await("the report", () -> d.log().contains("report: audit: "));
            String log = d.log();
            assertThat(log).contains("received SIGUSR1: state report follows", "report: health: ok",
                    "report: host: mode enforce, 0 rule(s)",
                    "report: namespace " + ns.nsid + ": mode enforce, 1 rule(s), 1 process(es)",
                    "/proc/" + ns.holder.pid() + "/root/tmp (filesystem mark)", "report: engine: events=");
            // The namespace's tmpfs, and the host's tmpfs mounts it sees (its tmpfs policy covers them too).
            assertThat(log).containsPattern("report: marked filesystems: [1-9]")
                    .containsPattern("report: enforcement: appraisals [1-9]");
            deny(ns, 1);
            assertThat(d.process.isAlive()).isTrue();
        }
    }

    @Test
    void signalsWithoutAMeaningAreLoggedAndEnforcementContinues() throws Exception {
        try (DaemonProcess d = new DaemonProcess(); MountNamespace ns = new MountNamespace()) {
            enforce(d, ns);
            for (String sig : List.of("ALRM", "VTALRM", "PROF")) {
                d.signal(sig);
                DaemonProcess.await("SIG" + sig + " logged",
                        () -> d.log().contains("received SIG" + sig + ": ignored, enforcement continues"));
            }
            // USR2, PIPE and XFSZ are the JVM's (HotSpot's suspend/resume signal, ignored write errors),
            // SIGIO comes with every broken lease, real-time signals cannot be caught: none ends the daemon.
            for (String sig : List.of("USR2", "PIPE", "XFSZ", "IO", "40", "64")) {
                d.signal(sig);
            }
            Thread.sleep(500);
            assertThat(d.process.isAlive()).as(d.log()).isTrue();
            deny(ns, 1);
            assertThat(d.log()).doesNotContain("stopping");
        }
    }

    @ParameterizedTest
    @CsvSource({"TERM, 15", "INT, 2", "ABRT, 6", "XCPU, 24", "PWR, 30", "SYS, 31"})
    void stoppingSignalsAreLoggedAndTheStopIsClean(String sig, int number) throws Exception {
        try (DaemonProcess d = new DaemonProcess(); MountNamespace ns = new MountNamespace()) {
            enforce(d, ns);
            d.signal(sig);
            assertThat(d.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(d.process.exitValue()).isEqualTo(128 + number);
            assertThat(d.log()).contains("received SIG" + sig + ": stopping", "enforcement stopped", "stopped");
            assertThat(d.controlMounted()).isFalse();
            // Not checked any more: the file the policy refused opens (fanotify fails open).
            assertThat(ns.sh("cat /tmp/f").rc()).isZero();
        }
    }

    @Test
    void aStopWhileStartingWaitsForTheStartThenStopsCleanly() throws Exception {
        try (DaemonProcess d = new DaemonProcess(false)) {
            d.signal("USR1");
            d.signal("TERM");
            assertThat(d.process.waitFor(60, TimeUnit.SECONDS)).isTrue();
            String log = d.log();
            assertThat(d.process.exitValue()).as(log).isEqualTo(128 + 15);
            assertThat(log).contains("received SIGUSR1 while starting: ignored",
                    "received SIGTERM while starting: stopping once started", "ready: ", "stopped");
            assertThat(d.controlMounted()).isFalse();
        }
    }

    /** Registers {@code ns}, leaves an unlabelled /tmp/f in it, and writes the policy that refuses it. */
    private static void enforce(DaemonProcess d, MountNamespace ns) throws IOException, InterruptedException {
        assertThat(ns.sh("echo secret > /tmp/f").rc()).isZero();
        d.register(ns.nsid, POLICY);
    }

    private static void deny(MountNamespace ns, int times) throws IOException, InterruptedException {
        for (int i = 0; i < times; i++) {
            Tools.Result r = ns.sh("cat /tmp/f");
            assertThat(r.rc()).isNotZero();
            assertThat(r.err()).contains("Operation not permitted");
        }
    }

    private static long denials(Path log) {
        try {
            return Files.readAllLines(log, StandardCharsets.UTF_8).stream()
                    .filter(l -> l.startsWith("type=1800 ") && l.contains("cause=\"missing-hash\"")).count();
        } catch (IOException e) {
            return -1;
        }
    }

    private static List<Long> serials(Path log) throws IOException {
        List<Long> out = new ArrayList<>();
        for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
            Matcher m = SERIAL.matcher(line);
            assertThat(m.find()).as(line).isTrue();
            out.add(Long.parseLong(m.group(1)));
        }
        return out;
    }
}
