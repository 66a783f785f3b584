package dev.imans.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imans.measure.MeasurementListCodec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Real namespaces that end under a real daemon process: their lists are archived under the state
 * directory, {@code imans measurements archived} finds them by nsid and time, {@code print} and
 * {@code verify} read them, and {@code --archive-keep} bounds how many stay.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class MeasurementArchiveTest {
    private static final String POLICY = "measure func=FILE_CHECK mask=MAY_READ\n";

    @Test
    void theListOfAnEndedNamespaceIsArchivedFoundAndVerifiedAndTheOldestArePruned() throws Exception {
        try (DaemonProcess d = new DaemonProcess("--archive-keep", "2");
             MountNamespace a = new MountNamespace(); MountNamespace b = new MountNamespace();
             MountNamespace c = new MountNamespace()) {
            for (MountNamespace ns : List.of(a, b, c)) {
                register(d, ns);
                assertThat(ns.sh("echo in-" + ns.nsid + " > /tmp/f && cat /tmp/f").rc()).isZero();
                assertThat(Files.readString(d.control.resolve(ns.nsid + "/ascii_runtime_measurements")))
                        .endsWith(" /tmp/f\n");
            }
            Path live = d.control.resolve(a.nsid + "/binary_runtime_measurements");
            byte[] aList = Files.readAllBytes(live);
            Instant beforeEnd = Instant.now();

            a.close();
            DaemonProcess.await("a's list archived", () -> d.log().contains("namespace " + a.nsid
                    + " unregistered: its measurement list is archived as "));
            assertThat(Files.exists(d.state.resolve("measurements/" + a.nsid + ".list"))).isFalse();
            CliRun listed = CliRun.of("measurements", "archived", "--state", d.state.toString());
            assertThat(listed.exitCode()).isZero();
            List<String> lines = listed.out().lines().toList();
            assertThat(lines).hasSize(1);
            Matcher m = Pattern.compile(a.nsid + " (\\S+) 2 entries PCR-10 sha1:([0-9a-f]{40}) sha256:([0-9a-f]{64}) (\\S+)")
                    .matcher(lines.getFirst());
            assertThat(m.matches()).as(lines.getFirst()).isTrue();
            assertThat(Instant.parse(m.group(1))).isAfterOrEqualTo(beforeEnd.minusMillis(1));
            Path archived = Path.of(m.group(4));
            assertThat(archived.getParent()).isEqualTo(d.state.resolve("measurements/archive"));
            // The final PCRs the daemon logged are those the archived list replays to.
            assertThat(d.log()).contains("namespace " + a.nsid + " unregistered: its measurement list is archived as "
                    + archived + " (2 entries, 0 violations, PCR-10 sha1:" + m.group(2) + " sha256:" + m.group(3) + ")");
            CliRun verify = CliRun.of("measurements", "verify", "--expect-pcr", "sha1:10=" + m.group(2),
                    "--expect-pcr", "sha256:10=" + m.group(3), archived.toString());
            assertThat(verify.exitCode()).as(verify.out()).isZero();
            // Byte for byte the list the namespace's binary_runtime_measurements served while it lived.
            assertThat(MeasurementListCodec.binaryList(Files.readAllBytes(archived))).isEqualTo(aList);
            // And the real evmctl replays it to those PCRs.
            Path work = Files.createDirectories(d.base.resolve("evmctl"));
            Files.write(work.resolve("binary_runtime_measurements"), MeasurementListCodec.binaryList(Files.readAllBytes(archived)));
            Files.writeString(work.resolve("pcrs.sha1"), MeasurementDurabilityTest.pcrFile(m.group(2)));
            Files.writeString(work.resolve("pcrs.sha256"), MeasurementDurabilityTest.pcrFile(m.group(3)));
            Tools.Result evmctl = Tools.run("evmctl", "ima_measurement", "--pcrs", "sha1," + work.resolve("pcrs.sha1"),
                    "--pcrs", "sha256," + work.resolve("pcrs.sha256"), work.resolve("binary_runtime_measurements").toString());
            assertThat(evmctl.rc()).as(evmctl.out() + evmctl.err()).isZero();
            CliRun print = CliRun.of("measurements", "print", archived.toString());
            assertThat(print.exitCode()).isZero();
            assertThat(print.out().lines()).hasSize(2);
            assertThat(print.out()).endsWith(" /tmp/f\n").contains(" boot_aggregate\n");

            b.close();
            DaemonProcess.await("b's list archived", () -> d.log().contains("namespace " + b.nsid + " unregistered"));
            c.close();
            DaemonProcess.await("c's list archived", () -> d.log().contains("namespace " + c.nsid + " unregistered"));
            // --archive-keep 2: a's, the oldest, is gone.
            List<String> kept = CliRun.of("measurements", "archived", "--state", d.state.toString()).out().lines().toList();
            assertThat(kept).hasSize(2);
            assertThat(kept.get(0)).startsWith(b.nsid + " ");
            assertThat(kept.get(1)).startsWith(c.nsid + " ");
            assertThat(archived).doesNotExist();
            List<String> byId = CliRun.of("measurements", "archived", "--state", d.state.toString(),
                    "--nsid", Long.toString(c.nsid), "--alive-at", beforeEnd.toString()).out().lines().toList();
            assertThat(byId).hasSize(1);
            assertThat(byId.getFirst()).startsWith(c.nsid + " ");
            assertThat(CliRun.of("measurements", "archived", "--state", d.state.toString(),
                    "--alive-at", Instant.now().plusSeconds(60).toString()).out()).isEmpty();
            assertThat(CliRun.of("measurements", "archived", "--alive-at", "yesterday").exitCode()).isEqualTo(2);
        }
    }

    private static void register(DaemonProcess d, MountNamespace ns) throws IOException, InterruptedException {
        d.register(ns.nsid, POLICY);
    }
}
