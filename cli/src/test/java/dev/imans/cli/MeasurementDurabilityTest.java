package dev.imans.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A real {@code imans daemon} process killed with SIGKILL in the middle of a burst of measured opens:
 * every open answered before the kill has its entry after a restart, the list verifies, and the PCRs
 * go on from where they were.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class MeasurementDurabilityTest {
    private static final String POLICY = "measure func=FILE_CHECK mask=MAY_READ\n";
    private static final int FILES = 600;
    /** Opens seen answered before the kill. */
    private static final int BEFORE_KILL = 200;

    @Test
    void everyAnsweredOpenKeepsItsEntryThroughSigkillAndThePcrsGoOn() throws Exception {
        try (MountNamespace ns = new MountNamespace(); DaemonProcess first = new DaemonProcess()) {
            assertThat(ns.sh("for i in $(seq 1 " + FILES + "); do echo content-$i > /tmp/f$i; done; echo new > /tmp/new")
                    .rc()).isZero();
            register(first, ns);
            Path list = first.control.resolve(ns.nsid + "/binary_runtime_measurements");

            Process burst = new ProcessBuilder("nsenter", "-t", Long.toString(ns.holder.pid()), "-m", "sh", "-c",
                    "for i in $(seq 1 " + FILES + "); do cat /tmp/f$i > /dev/null && echo $i; done")
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            Set<Integer> answered = new LinkedHashSet<>();
            byte[] beforeKill;
            try (BufferedReader out = new BufferedReader(new InputStreamReader(burst.getInputStream(),
                    StandardCharsets.UTF_8))) {
                while (answered.size() < BEFORE_KILL) {
                    String line = out.readLine();
                    assertThat(line).as("the burst ended early").isNotNull();
                    answered.add(Integer.parseInt(line));
                }
                beforeKill = Files.readAllBytes(list);
                first.kill();
                // Without the daemon the rest of the burst is let through unmeasured.
                out.transferTo(java.io.Writer.nullWriter());
            }
            assertThat(burst.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(first.log()).doesNotContain("measurement list restored");

            byte[] afterRestart;
            try (DaemonProcess second = new DaemonProcess(first.base, "daemon2.log", true)) {
                Path list2 = second.control.resolve(ns.nsid + "/binary_runtime_measurements");
                String ascii = Files.readString(second.control.resolve(ns.nsid + "/ascii_runtime_measurements"));
                for (int i : answered) {
                    assertThat(ascii).as("entry of /tmp/f" + i + ", whose cat returned before the kill")
                            .contains(" /tmp/f" + i + "\n");
                }
                afterRestart = Files.readAllBytes(list2);
                // What was listed before the kill is listed unchanged, in the same order.
                assertThat(Arrays.copyOf(afterRestart, beforeKill.length)).isEqualTo(beforeKill);
                long entries = ascii.lines().count();
                assertThat(Files.readString(second.control.resolve(ns.nsid + "/runtime_measurements_count")))
                        .isEqualTo(entries + "\n");
                // The daemon's PCRs after the restart are those the list replays to.
                Restored r = restored(second, ns);
                assertThat(r.entries()).isEqualTo(entries);
                verify(list2, r);

                // New entries extend from there: the next restart's PCRs are those of the whole list.
                assertThat(ns.sh("cat /tmp/new").rc()).isZero();
                assertThat(Files.readString(second.control.resolve(ns.nsid + "/ascii_runtime_measurements")))
                        .endsWith(" /tmp/new\n");
                byte[] grown = Files.readAllBytes(list2);
                assertThat(Arrays.copyOf(grown, afterRestart.length)).isEqualTo(afterRestart);
                second.kill();
                try (DaemonProcess third = new DaemonProcess(first.base, "daemon3.log", true)) {
                    Path list3 = third.control.resolve(ns.nsid + "/binary_runtime_measurements");
                    assertThat(Files.readAllBytes(list3)).isEqualTo(grown);
                    Restored r3 = restored(third, ns);
                    assertThat(r3.entries()).isEqualTo(entries + 1);
                    assertThat(r3.sha256()).isNotEqualTo(r.sha256());
                    verify(list3, r3);
                    Tools.Result evmctl = evmctl(third, list3, r3);
                    assertThat(evmctl.rc()).as(evmctl.out() + evmctl.err()).isZero();
                }
            }
        }
    }

    private record Restored(long entries, String sha1, String sha256) {}

    /** The counters and PCR-10 the daemon logged for the namespace's restored list. */
    private static Restored restored(DaemonProcess d, MountNamespace ns) {
        Matcher m = Pattern.compile("namespace " + ns.nsid + " measurement list restored: (\\d+) entries, 0 violations,"
                + " PCR-10 sha1:([0-9a-f]{40}) sha256:([0-9a-f]{64})").matcher(d.log());
        assertThat(m.find()).as(d.log()).isTrue();
        return new Restored(Long.parseLong(m.group(1)), m.group(2), m.group(3));
    }

    /** {@code imans measurements verify}: every digest matches, and the list replays to {@code r}'s PCR-10. */
    private static void verify(Path list, Restored r) throws IOException {
        Path copy = Files.createTempFile("imans-list", ".bin");
        try {
            Files.write(copy, Files.readAllBytes(list));
            CliRun v = CliRun.of("measurements", "verify", "--expect-pcr", "sha1:10=" + r.sha1(),
                    "--expect-pcr", "sha256:10=" + r.sha256(), copy.toString());
            assertThat(v.exitCode()).as(v.out()).isZero();
            assertThat(v.out()).contains("PCR-10 sha1 (--expect-pcr): matches", "PCR-10 sha256 (--expect-pcr): matches");
            assertThat(v.out()).endsWith("OK\n");
        } finally {
            Files.delete(copy);
        }
    }

    /** evmctl's own replay of the list against the PCRs the daemon restored. */
    private static Tools.Result evmctl(DaemonProcess d, Path list, Restored r) throws IOException, InterruptedException {
        Path work = d.base.resolve("evmctl");
        Files.createDirectories(work);
        Path copy = work.resolve("binary_runtime_measurements");
        Files.write(copy, Files.readAllBytes(list));
        Files.writeString(work.resolve("pcrs.sha1"), pcrFile(r.sha1()));
        Files.writeString(work.resolve("pcrs.sha256"), pcrFile(r.sha256()));
        return Tools.run("evmctl", "ima_measurement", "--pcrs", "sha1," + work.resolve("pcrs.sha1"),
                "--pcrs", "sha256," + work.resolve("pcrs.sha256"), copy.toString());
    }

    /** A PCR file as evmctl's {@code --pcrs} reads it: PCR 10 as given, the others zero. */
    static String pcrFile(String pcr10) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 24; i++) {
            b.append(String.format("PCR-%02d: ", i)).append(i == 10 ? pcr10 : "00".repeat(pcr10.length() / 2))
                    .append('\n');
        }
        return b.toString();
    }

    private static void register(DaemonProcess d, MountNamespace ns) throws IOException, InterruptedException {
        d.register(ns.nsid, POLICY);
    }
}
