package dev.imans.daemon.enforce;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imans.crypto.HashAlgo;
import dev.imans.measure.BinaryList;
import dev.imans.measure.ListRecord;
import dev.imans.measure.ListVerifier;
import dev.imans.measure.MeasurementList;
import dev.imans.measure.PcrFile;
import dev.imans.ns.AppraiseSetting;
import dev.imans.ns.NamespaceId;
import dev.imans.ns.PolicyTarget;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Measurement lists filled by real opens in real namespaces, read back through the control filesystem,
 * checked with evmctl, and kept across a restart.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class MeasurementTest {
    private static final String BOOT_AGGREGATE =
            "10 0adefe762c149c7cec19da62f0da1297fcfbffff ima-ng sha256:" + "0".repeat(64) + " boot_aggregate";
    /** The host measures executables on ext4 only: nothing these tests open. */
    private static final String HOST_POLICY = "measure func=BPRM_CHECK fsmagic=0xEF53\n";

    private DaemonFixture daemon;
    private final List<Process> holders = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (Process p : holders) {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
        if (daemon != null) {
            daemon.close();
        }
    }

    private Namespace namespace(String policy) throws Exception {
        return daemon.namespace(policy);
    }

    private String read(String file) throws Exception {
        return Files.readString(daemon.control.resolve(file), StandardCharsets.UTF_8);
    }

    private static String line(String path, String content) throws Exception {
        return " ima-ng sha256:" + sha256(content) + " " + path;
    }

    private static String sha256(String content) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                .digest(content.getBytes(StandardCharsets.UTF_8)));
    }

    /** The ascii lines without PCR and template digest (those are checked by replaying the binary list). */
    private List<String> entries(String file) throws Exception {
        return read(file).lines().map(l -> l.substring(l.indexOf(' ', 3))).toList();
    }

    @Test
    void aNamespaceListHoldsWhatItsPolicyMeasuresOncePerVersionAndVerifiesAndSurvivesARestart() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Files.writeString(daemon.control.resolve("policy"), HOST_POLICY);
        Namespace ns = namespace("measure func=FILE_CHECK mask=MAY_READ\n");
        String dir = ns.nsid + "/";
        ns.shOk("echo hello > /tmp/a; echo 'two words' > '/tmp/b c'");
        assertThat(ns.shOk("cat /tmp/a '/tmp/b c'").out()).isEqualTo("hello\ntwo words\n");

        assertThat(read(dir + "ascii_runtime_measurements")).startsWith(BOOT_AGGREGATE + "\n");
        assertThat(entries(dir + "ascii_runtime_measurements")).containsExactly(
                BOOT_AGGREGATE.substring(BOOT_AGGREGATE.indexOf(' ', 3)),
                line("/tmp/a", "hello\n"), line("/tmp/b_c", "two words\n"));
        assertThat(read(dir + "runtime_measurements_count")).isEqualTo("3\n");
        assertThat(read(dir + "violations")).isEqualTo("0\n");

        // The same version is measured once; a changed one again.
        ns.shOk("cat /tmp/a");
        assertThat(read(dir + "runtime_measurements_count")).isEqualTo("3\n");
        ns.shOk("echo more >> /tmp/a; cat /tmp/a");
        assertThat(entries(dir + "ascii_runtime_measurements")).hasSize(4)
                .endsWith(line("/tmp/a", "hello\nmore\n"));

        // The host policy measures none of it: its list holds boot_aggregate alone.
        assertThat(read("ascii_runtime_measurements")).isEqualTo(BOOT_AGGREGATE + "\n");
        assertThat(read("runtime_measurements_count")).isEqualTo("1\n");

        // The binary list replays to the PCRs the daemon holds, and evmctl agrees.
        byte[] binary = Files.readAllBytes(daemon.control.resolve(dir + "binary_runtime_measurements"));
        List<ListRecord> records = BinaryList.read(binary, HashAlgo.SHA1);
        ListVerifier.Report report = ListVerifier.replay(records, List.of(HashAlgo.SHA1, HashAlgo.SHA256));
        assertThat(report.digestsValid()).isTrue();
        PolicyTarget target = new PolicyTarget.Namespace(new NamespaceId(ns.nsid));
        MeasurementList.Snapshot before = daemon.daemon.measurements().current(target).orElseThrow();
        assertThat(report.perBank().get(HashAlgo.SHA1)).isEqualTo(before.bank(HashAlgo.SHA1));
        assertThat(report.perBank().get(HashAlgo.SHA256)).isEqualTo(before.bank(HashAlgo.SHA256));
        Path work = daemon.base.resolve("evmctl");
        Files.createDirectories(work);
        Files.write(work.resolve("binary_runtime_measurements"), binary);
        Files.writeString(work.resolve("pcrs.sha1"), PcrFile.format(report.perBank().get(HashAlgo.SHA1)));
        Files.writeString(work.resolve("pcrs.sha256"), PcrFile.format(report.perBank().get(HashAlgo.SHA256)));
        Run.Result evmctl = Run.run("evmctl", "ima_measurement", "--pcrs", "sha1," + work.resolve("pcrs.sha1"),
                "--pcrs", "sha256," + work.resolve("pcrs.sha256"), work.resolve("binary_runtime_measurements").toString());
        assertThat(evmctl.exit()).as(evmctl.out() + evmctl.err()).isZero();
        assertThat(evmctl.out() + evmctl.err()).contains("Matched per TPM bank calculated digest(s).");

        // A restart with the same state keeps the list: same entries, counters and PCRs.
        String ascii = read(dir + "ascii_runtime_measurements");
        daemon.restart();
        assertThat(read(dir + "ascii_runtime_measurements")).isEqualTo(ascii);
        assertThat(read(dir + "runtime_measurements_count")).isEqualTo("4\n");
        MeasurementList.Snapshot after = daemon.daemon.measurements().current(target).orElseThrow();
        assertThat(after.banks()).isEqualTo(before.banks());
        // It goes on measuring after the restart.
        ns.shOk("echo new > /tmp/d; cat /tmp/d");
        assertThat(entries(dir + "ascii_runtime_measurements")).hasSize(5).endsWith(line("/tmp/d", "new\n"));
    }

    @Test
    void aMarkedFileIsStillMeasuredInANamespaceRegisteredLater() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Files.writeString(daemon.control.resolve("policy"), HOST_POLICY);
        Namespace first = namespace("measure func=FILE_CHECK mask=MAY_READ\n");
        first.shOk("echo shared > /tmp/c");
        first.shOk("cat /tmp/c");
        var engine = daemon.enforcement().engine().metrics();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (engine.ignoreMarksAdded() == 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(engine.ignoreMarksAdded()).as("measured everywhere it may be: marked").isPositive();
        long events = engine.events();
        first.shOk("cat /tmp/c");
        assertThat(engine.events()).as("the mark answers in the kernel").isEqualTo(events);

        // A namespace made inside the first sees the same tmpfs; registering it flushes the marks.
        long second = childNamespace(first);
        Files.writeString(daemon.control.resolve("namespaces"), second + "\n");
        Files.writeString(daemon.control.resolve(second + "/policy"), "measure func=FILE_CHECK\n");
        // The first namespace's open must not mark the file while the second has not measured it.
        first.shOk("cat /tmp/c");
        Run.Result r = Run.run("nsenter", "-t", Long.toString(holders.getLast().pid()), "-m", "cat", "/tmp/c");
        assertThat(r.out()).isEqualTo("shared\n");
        assertThat(entries(second + "/ascii_runtime_measurements")).endsWith(line("/tmp/c", "shared\n")).hasSize(2);
        assertThat(entries(first.nsid + "/ascii_runtime_measurements")).hasSize(2);
        assertThat(read("runtime_measurements_count")).isEqualTo("1\n");

        // Each namespace has its own list: unregistering the second drops its list, not the first's.
        holders.getLast().destroyForcibly();
        holders.getLast().waitFor(10, TimeUnit.SECONDS);
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (Files.exists(daemon.control.resolve(Long.toString(second))) && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(daemon.control.resolve(Long.toString(second))).doesNotExist();
        assertThat(read(first.nsid + "/runtime_measurements_count")).isEqualTo("2\n");
    }

    @Test
    void aRuleTemplateAndPcrAreUsedAndImaSigRecordsTheSignature() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Namespace ns = namespace("measure func=FILE_CHECK mask=MAY_READ pcr=11 template=ima-sig\n");
        // A signature-typed value (0x03, v2 header): measured as it is, whatever it verifies to.
        String sig = "030202deadbeef0004aabbccdd";
        ns.shOk("echo signed > /tmp/s && setfattr -n security.ima -v 0x" + sig + " /tmp/s && echo plain > /tmp/p");
        ns.shOk("cat /tmp/s /tmp/p");
        List<String> lines = read(ns.nsid + "/ascii_runtime_measurements").lines().toList();
        assertThat(lines).hasSize(3);
        assertThat(lines.get(0)).isEqualTo(BOOT_AGGREGATE);
        // Its header's hash algorithm byte is 2 (sha1): the kernel collects the file's digest in sha1.
        assertThat(lines.get(1)).startsWith("11 ").endsWith(" ima-sig sha1:" + HexFormat.of().formatHex(
                MessageDigest.getInstance("SHA-1").digest("signed\n".getBytes(StandardCharsets.UTF_8))) + " /tmp/s " + sig);
        // No signature: the sig field is empty, and the line ends with a space, as the kernel prints it.
        assertThat(lines.get(2)).startsWith("11 ").endsWith(" ima-sig sha256:" + sha256("plain\n") + " /tmp/p ");
        byte[] binary = Files.readAllBytes(daemon.control.resolve(ns.nsid + "/binary_runtime_measurements"));
        assertThat(ListVerifier.replay(BinaryList.read(binary, HashAlgo.SHA1), List.of(HashAlgo.SHA1)).digestsValid())
                .isTrue();
    }

    /** A mount namespace unshared from inside {@code parent}: it has copies of the parent's mounts. */
    private long childNamespace(Namespace parent) throws Exception {
        Process p = new ProcessBuilder("nsenter", "-t", Integer.toString(parent.pid()), "-m", "unshare", "-m",
                "--propagation", "private", "sh", "-c", "readlink /proc/self/ns/mnt && exec sleep 600")
                .redirectErrorStream(true).start();
        holders.add(p);
        BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String line = CompletableFuture.supplyAsync(() -> {
            try {
                return r.readLine();
            } catch (java.io.IOException e) {
                return null;
            }
        }).get(10, TimeUnit.SECONDS);
        assertThat(line).startsWith("mnt:[");
        return Long.parseLong(line.substring(5, line.length() - 1));
    }
}
