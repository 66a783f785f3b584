package dev.imans.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.imans.crypto.HashAlgo;
import dev.imans.measure.EventData;
import dev.imans.measure.MeasuredDigest;
import dev.imans.measure.MeasurementEntry;
import dev.imans.measure.MeasurementList;
import dev.imans.measure.MeasurementListCodec;
import dev.imans.measure.Template;
import dev.imans.tpm.AnchorLog;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The TPM anchor end to end with a real swtpm, a real daemon and real namespaces: the anchor PCR that
 * tpm2-tools reads and quotes is the replay of every list, through restarts, a crash between a record and
 * its extension, a TPM reset, and a PCR changed behind the daemon's back; a changed list fails.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class TpmAnchorTest {
    private static final String POLICY = "measure func=FILE_CHECK mask=MAY_READ\n";
    private static final int PCR = 23;
    private static final String NONCE = "5ca1ab1e0ddba11c";

    @BeforeAll
    static void swtpmInstalled() {
        assumeTrue(Swtpm.installed(), "swtpm and tpm2-tools are installed by bin/setup-deps");
    }

    @Test
    void aQuoteOfTheAnchorPcrIsTheReplayOfEveryListThroughRestartsCrashesAndResets() throws Exception {
        Path tpmDir = Path.of("/run/imans-test-tpm-" + UUID.randomUUID());
        try (MountNamespace ns1 = new MountNamespace(); MountNamespace ns2 = new MountNamespace()) {
            Swtpm tpm = new Swtpm(tpmDir.resolve("tpm1"));
            DaemonProcess d = null;
            try {
                d = new DaemonProcess("--tpm", tpm.device(), "--tpm-pcr", Integer.toString(PCR));
                Path state = d.state;
                assertThat(d.log()).contains("new epoch");
                register(d, ns1);
                register(d, ns2);
                assertThat(ns1.sh("echo one > /tmp/a1; echo two > /tmp/a2; cat /tmp/a1 /tmp/a2").rc()).isZero();
                assertThat(ns2.sh("echo three > /tmp/b1; cat /tmp/b1").rc()).isZero();
                assertThat(ascii(d, ns1)).contains(" /tmp/a1\n", " /tmp/a2\n");
                assertThat(ascii(d, ns2)).contains(" /tmp/b1\n");
                assertThat(Files.readString(d.control.resolve(".imans/health"))).isEqualTo("ok\n");
                assertThat(Files.readString(d.control.resolve(".imans/metrics")))
                        .contains("imans_tpm_anchor_records 6\n", "imans_tpm_anchor_pending 0\n",
                                "imans_tpm_anchor_extend_failures_total 0\n");
                d.signal("USR1");
                DaemonProcess reported = d;
                String device = tpm.device();
                DaemonProcess.await("the state report", () -> reported.log().contains("tpm anchor: PCR 23 of "
                        + device + ", banks sha1,sha256,sha384,sha512: 6 records this epoch, 0 not yet extended"));

                assertThat(Files.readAllBytes(d.control.resolve(".imans/tpm-anchor.log")))
                        .isEqualTo(Files.readAllBytes(state.resolve("measurements/" + AnchorLog.FILE)));

                // (1) What tpm2-tools reads is the replay of the host's and both namespaces' lists.
                String read = pcrread(tpm);
                CliRun v = verify(state, "--tpm", tpm.device());
                assertThat(v.exitCode()).as(v.out() + v.stderr()).isZero();
                assertThat(v.out()).contains("list host: 1 entries", "list " + ns1.nsid + ": 3 entries",
                        "list " + ns2.nsid + ": 2 entries", "PCR-23 sha256 replay: " + read,
                        "PCR-23 sha256 (TPM " + tpm.device() + "): matches");

                // (2) A quote by an attestation key: tpm2_checkquote verifies it, and its PCR is the replay.
                String quoted = quote(tpm);
                assertThat(quoted).isEqualTo(read);
                CliRun q = verify(state, "--pcr-value", "sha256:" + quoted);
                assertThat(q.exitCode()).as(q.out()).isZero();
                assertThat(q.out()).contains("PCR-23 sha256 (--pcr-value): matches").endsWith("PCR holds its replay\n");

                // Measured after the quote: the quote vouches for the first 6 records, not the 7th.
                assertThat(ns2.sh("echo later > /tmp/b2; cat /tmp/b2").rc()).isZero();
                CliRun strict = verify(state, "--pcr-value", "sha256:" + quoted);
                assertThat(strict.exitCode()).as(strict.out()).isEqualTo(1);
                assertThat(strict.out()).contains("holds the replay of the first 6 of 7 records only");
                CliRun newer = verify(state, "--pcr-value", "sha256:" + quoted, "--allow-newer");
                assertThat(newer.exitCode()).as(newer.out()).isZero();
                assertThat(newer.out()).contains("matches the first 6 of 7 records; the last 1 were recorded after it");

                // (4) A restart goes on with the same epoch, and new entries extend it.
                d.stop();
                d = new DaemonProcess(d.base, "daemon2.log", true, "--tpm", tpm.device(), "--tpm-pcr", "23");
                assertThat(d.log()).contains("the epoch goes on").doesNotContain("new epoch");
                assertThat(ns1.sh("echo four > /tmp/a3; cat /tmp/a3").rc()).isZero();
                assertThat(pcrread(tpm)).isNotEqualTo(read);
                assertVerifies(state, tpm);

                // (5) Killed after writing a record, before extending it; and after listing an entry, before
                // recording it: the restart extends the one and records and extends the other.
                d.stop();
                crashBetweenRecordAndExtend(state, ns1);
                crashBetweenListAndRecord(state, ns2);
                d = new DaemonProcess(d.base, "daemon3.log", true, "--tpm", tpm.device(), "--tpm-pcr", "23");
                assertThat(d.log()).contains("extended 1 record(s) of the log",
                        "recorded and extended 1 list entry", "the epoch goes on");
                assertThat(ascii(d, ns1)).contains(" /tmp/ghost-recorded\n");
                assertThat(ascii(d, ns2)).contains(" /tmp/ghost-listed\n");
                assertVerifies(state, tpm);

                // (6) A fresh TPM (a reboot): a new epoch extends every entry of every list.
                d.stop();
                tpm.close();
                tpm = new Swtpm(tpmDir.resolve("tpm2"));
                d = new DaemonProcess(d.base, "daemon4.log", true, "--tpm", tpm.device(), "--tpm-pcr", "23");
                assertThat(d.log()).contains("new epoch, 10 entries of 3 list(s) extended");
                assertThat(Files.readString(d.control.resolve(".imans/health"))).isEqualTo("ok\n");
                assertVerifies(state, tpm);

                // A PCR extended behind the daemon's back: it says so, and leaves the PCR alone.
                d.stop();
                assertThat(tpm.tool("tpm2_pcrextend", "23:sha256=" + "00".repeat(31) + "01").rc()).isZero();
                String behind = pcrread(tpm);
                d = new DaemonProcess(d.base, "daemon5.log", true, "--tpm", tpm.device(), "--tpm-pcr", "23");
                assertThat(Files.readString(d.control.resolve(".imans/health"))).contains("tpm-anchor-mismatch");
                assertThat(Files.readString(d.control.resolve(".imans/metrics")))
                        .contains("imans_health_condition{condition=\"tpm-anchor-mismatch\"} 1");
                assertThat(ns1.sh("echo five > /tmp/a4; cat /tmp/a4").rc()).isZero();
                assertThat(pcrread(tpm)).isEqualTo(behind);
                CliRun m = verify(state, "--tpm", tpm.device());
                assertThat(m.exitCode()).as(m.out()).isEqualTo(1);
                assertThat(m.out()).contains("MISMATCH").endsWith("FAILED\n");
                d.stop();

                // (3) A list changed after the fact fails, whether its record no longer checks or it was
                // rewritten whole with another entry.
                tpm.close();
                tpm = new Swtpm(tpmDir.resolve("tpm3"));
                d = new DaemonProcess(d.base, "daemon6.log", true, "--tpm", tpm.device(), "--tpm-pcr", "23");
                assertVerifies(state, tpm);
                d.stop();
                Path list1 = state.resolve("measurements/" + ns1.nsid + ".list");
                byte[] original = Files.readAllBytes(list1);
                Files.write(list1, replace(original, "/tmp/a2", "/tmp/x2"));
                CliRun t1 = verify(state, "--tpm", tpm.device());
                assertThat(t1.exitCode()).as(t1.out()).isEqualTo(1);
                assertThat(t1.out()).contains(list1 + ": damaged list").endsWith("FAILED\n");
                Files.write(list1, rewrittenWith(original, 2, "/tmp/x2"));
                CliRun t2 = verify(state, "--tpm", tpm.device());
                assertThat(t2.exitCode()).as(t2.out()).isEqualTo(1);
                assertThat(t2.out()).contains(ns1.nsid + " entry 2 (/tmp/x2): its digests in the list differ")
                        .endsWith("FAILED\n");
                Files.write(list1, original);
                assertVerifies(state, tpm);
            } finally {
                if (d != null) {
                    d.close();
                }
                tpm.close();
                deleteTree(tpmDir);
            }
        }
    }

    @Test
    void anOpenWhoseExtensionFailsIsAnsweredAndAuditedAsTheKernelDoes() throws Exception {
        Path tpmDir = Path.of("/run/imans-test-tpm-" + UUID.randomUUID());
        try (MountNamespace ns = new MountNamespace()) {
            Swtpm tpm = new Swtpm(tpmDir.resolve("tpm1"));
            DaemonProcess d = null;
            try {
                d = new DaemonProcess("--tpm", tpm.device(), "--tpm-pcr", "23");
                register(d, ns);
                assertThat(ns.sh("echo one > /tmp/c1; cat /tmp/c1").rc()).isZero();
                tpm.close();

                // The TPM is gone: the open is still answered, its entry listed, and the failure audited.
                Tools.Result cat = ns.sh("echo two > /tmp/c2; cat /tmp/c2");
                assertThat(cat.rc()).isZero();
                assertThat(cat.out()).isEqualTo("two\n");
                assertThat(ascii(d, ns)).contains(" /tmp/c2\n");
                DaemonProcess finalD = d;
                try {
                    DaemonProcess.await("the TPM_error audit record", () -> {
                        try {
                            return Files.readString(finalD.auditLog).lines().anyMatch(l -> l.contains("/tmp/c2")
                                    && l.contains("op=\"add_template_measure\"") && l.contains("cause=\"TPM_error(-5)\"")
                                    && l.contains("res=1"));
                        } catch (IOException e) {
                            return false;
                        }
                    });
                } catch (AssertionError e) {
                    throw new AssertionError(e.getMessage() + "; audit log:\n" + Files.readString(d.auditLog)
                            + "\ndaemon log:\n" + d.log(), e);
                }
                assertThat(Files.readString(d.control.resolve(".imans/health"))).contains("tpm-extend-failed");
                assertThat(Files.readString(d.control.resolve(".imans/metrics"))).contains("imans_tpm_anchor_pending 1\n");
                CliRun v = verify(d.state, "--pcr-value", "sha256:" + "00".repeat(32));
                assertThat(v.exitCode()).isEqualTo(1);

                // A TPM back on the same port was reset meanwhile: the pending records cannot follow the log.
                tpm = new Swtpm(tpmDir.resolve("tpm2"), tpm.port);
                DaemonProcess finalD2 = d;
                DaemonProcess.await("the mismatch", () -> {
                    try {
                        String h = Files.readString(finalD2.control.resolve(".imans/health"));
                        return h.contains("tpm-anchor-mismatch") && !h.contains("tpm-extend-failed");
                    } catch (IOException e) {
                        return false;
                    }
                });
            } finally {
                if (d != null) {
                    d.close();
                }
                tpm.close();
                deleteTree(tpmDir);
            }
        }
    }

    @Test
    void aTpmNotThereAtStartIsWaitedForWhileOpensAreJudgedAndThenAnchorsEveryList() throws Exception {
        Path tpmDir = Path.of("/run/imans-test-tpm-" + UUID.randomUUID());
        int port = Swtpm.freePort();
        try (MountNamespace ns = new MountNamespace()) {
            Swtpm tpm = null;
            DaemonProcess d = null;
            try {
                d = new DaemonProcess("--tpm", "tcp:127.0.0.1:" + port, "--tpm-pcr", "23");
                assertThat(Files.readString(d.control.resolve(".imans/health"))).contains("tpm-unavailable");
                assertThat(Files.readAllBytes(d.control.resolve(".imans/tpm-anchor.log"))).isEmpty();
                register(d, ns);
                Tools.Result cat = ns.sh("echo early > /tmp/e1; cat /tmp/e1");
                assertThat(cat.rc()).isZero();
                assertThat(ascii(d, ns)).contains(" /tmp/e1\n");

                tpm = new Swtpm(tpmDir.resolve("tpm1"), port);
                DaemonProcess started = d;
                DaemonProcess.await("the anchor to start", () -> {
                    try {
                        return Files.readString(started.control.resolve(".imans/health")).equals("ok\n");
                    } catch (IOException e) {
                        return false;
                    }
                });
                assertThat(d.log()).contains("new epoch, 3 entries of 2 list(s) extended");
                assertThat(Files.readString(d.auditLog)).contains("cause=\"TPM_error(-5)\"");
                assertThat(ns.sh("echo late > /tmp/e2; cat /tmp/e2").rc()).isZero();
                assertVerifies(d.state, tpm);

                // The namespace ends: its list is archived, the log says where, and it still verifies.
                ns.close();
                DaemonProcess ending = d;
                DaemonProcess.await("the namespace's end", () -> ending.log().contains("unregistered: its measurement"
                        + " list is archived as"));
                String log = Files.readString(d.state.resolve("measurements/" + AnchorLog.FILE));
                assertThat(log).containsPattern("\nend " + ns.nsid + " " + ns.nsid + "-[0-9T.Z]+\\.list\n");
                assertVerifies(d.state, tpm);
            } finally {
                if (d != null) {
                    d.close();
                }
                if (tpm != null) {
                    tpm.close();
                }
                deleteTree(tpmDir);
            }
        }
    }

    private static void assertVerifies(Path state, Swtpm tpm) throws IOException, InterruptedException {
        CliRun v = verify(state, "--tpm", tpm.device(), "--tpm-pcr", "23");
        assertThat(v.exitCode()).as(v.out() + v.stderr()).isZero();
        assertThat(v.out()).contains("PCR-23 sha256 replay: " + pcrread(tpm), "PCR-23 sha1 (TPM " + tpm.device()
                + "): matches");
    }

    private static CliRun verify(Path state, String... more) {
        List<String> args = new ArrayList<>(List.of("measurements", "verify", "--anchor", state.toString()));
        args.addAll(List.of(more));
        return CliRun.of(args.toArray(String[]::new));
    }

    /** PCR 23's sha256 value as {@code tpm2_pcrread} prints it, in lower case. */
    private static String pcrread(Swtpm tpm) throws IOException, InterruptedException {
        Tools.Result r = tpm.tool("tpm2_pcrread", "sha256:23");
        assertThat(r.rc()).as(r.err()).isZero();
        Matcher m = Pattern.compile("23: 0x([0-9A-Fa-f]{64})").matcher(r.out());
        assertThat(m.find()).as(r.out()).isTrue();
        return m.group(1).toLowerCase(Locale.ROOT);
    }

    /**
     * An endorsement key, an attestation key under it, a quote of sha256 PCR 23 over a nonce, and
     * {@code tpm2_checkquote}'s verification of it with the AK's public key; the quoted PCR value. swtpm
     * has no resource manager: each tool's transient objects are flushed after it.
     */
    private static String quote(Swtpm tpm) throws IOException, InterruptedException {
        run(tpm, "tpm2_createek", "-c", "ek.ctx", "-G", "rsa", "-u", "ek.pub");
        run(tpm, "tpm2_createak", "-C", "ek.ctx", "-c", "ak.ctx", "-G", "rsa", "-s", "rsassa", "-g", "sha256",
                "-u", "ak.pub", "-f", "pem", "-n", "ak.name");
        run(tpm, "tpm2_quote", "-c", "ak.ctx", "-l", "sha256:23", "-q", NONCE, "-m", "quote.msg", "-s", "quote.sig",
                "-o", "quote.pcrs", "-g", "sha256");
        Tools.Result check = tpm.tool("tpm2_checkquote", "-u", "ak.pub", "-m", "quote.msg", "-s", "quote.sig",
                "-f", "quote.pcrs", "-g", "sha256", "-q", NONCE);
        assertThat(check.rc()).as(check.out() + check.err()).isZero();
        Tools.Result wrongNonce = tpm.tool("tpm2_checkquote", "-u", "ak.pub", "-m", "quote.msg", "-s", "quote.sig",
                "-f", "quote.pcrs", "-g", "sha256", "-q", "00" + NONCE.substring(2));
        assertThat(wrongNonce.rc()).as("a quote checked against another nonce").isNotZero();
        Matcher m = Pattern.compile("23: 0x([0-9A-Fa-f]{64})").matcher(check.out());
        assertThat(m.find()).as(check.out()).isTrue();
        return m.group(1).toLowerCase(Locale.ROOT);
    }

    private static void run(Swtpm tpm, String... cmd) throws IOException, InterruptedException {
        Tools.Result r = tpm.tool(cmd);
        assertThat(r.rc()).as(String.join(" ", cmd) + ": " + r.err()).isZero();
        for (String flush : List.of("-t", "-s")) {
            Tools.Result f = tpm.tool("tpm2_flushcontext", flush);
            assertThat(f.rc()).as("tpm2_flushcontext " + flush + ": " + f.err()).isZero();
        }
    }

    private static MeasurementEntry ghost(String name) {
        return MeasurementEntry.create(10, Template.IMA_NG, EventData.file(name, new MeasuredDigest(HashAlgo.SHA256,
                HashAlgo.SHA256.newDigest().digest(name.getBytes(StandardCharsets.UTF_8)))).build(), HashAlgo.SHA256);
    }

    /** An entry in the list and its record in the log, not extended: a daemon killed between the two. */
    private static void crashBetweenRecordAndExtend(Path state, MountNamespace ns) throws Exception {
        MeasurementEntry e = ghost("/tmp/ghost-recorded");
        long index = appendToList(state, ns, e);
        Path log = state.resolve("measurements/" + AnchorLog.FILE);
        AnchorLog.Parsed p = AnchorLog.parse(Files.readAllBytes(log));
        Files.write(log, AnchorLog.Record.of(Long.toString(ns.nsid), index, e, p.header().banks()).bytes(),
                StandardOpenOption.APPEND);
    }

    /** An entry in the list, not yet in the log: a daemon killed between the list's write and the record's. */
    private static void crashBetweenListAndRecord(Path state, MountNamespace ns) throws Exception {
        appendToList(state, ns, ghost("/tmp/ghost-listed"));
    }

    private static long appendToList(Path state, MountNamespace ns, MeasurementEntry e) throws Exception {
        Path list = state.resolve("measurements/" + ns.nsid + ".list");
        long index = MeasurementListCodec.restore(Files.readAllBytes(list)).runtimeMeasurementsCount();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        MeasurementListCodec.writeRecord(out, e);
        Files.write(list, out.toByteArray(), StandardOpenOption.APPEND);
        return index;
    }

    /** The list file with entry {@code index} replaced by another whole, valid entry. */
    private static byte[] rewrittenWith(byte[] file, int index, String name) throws Exception {
        MeasurementList l = MeasurementListCodec.restore(file);
        MeasurementList out = new MeasurementList(l.imaHash(), l.bankAlgos());
        List<MeasurementEntry> entries = l.snapshot().entries();
        for (int i = 0; i < entries.size(); i++) {
            out.add(i == index ? ghost(name) : entries.get(i));
        }
        return MeasurementListCodec.save(out);
    }

    private static byte[] replace(byte[] data, String from, String to) {
        byte[] f = from.getBytes(StandardCharsets.US_ASCII);
        byte[] t = to.getBytes(StandardCharsets.US_ASCII);
        byte[] out = data.clone();
        for (int i = 0; i + f.length <= out.length; i++) {
            if (java.util.Arrays.equals(out, i, i + f.length, f, 0, f.length)) {
                System.arraycopy(t, 0, out, i, t.length);
                return out;
            }
        }
        throw new AssertionError(from + " not in the list file");
    }

    private static String ascii(DaemonProcess d, MountNamespace ns) throws IOException {
        return Files.readString(d.control.resolve(ns.nsid + "/ascii_runtime_measurements"));
    }

    private static void register(DaemonProcess d, MountNamespace ns) throws IOException, InterruptedException {
        d.register(ns.nsid, POLICY);
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
