package dev.imans.daemon.enforce;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imans.crypto.HashAlgo;
import dev.imans.measure.BinaryList;
import dev.imans.measure.ListVerifier;
import dev.imans.ns.AppraiseSetting;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Violations as Linux 6.1 records them (ima_rdwr_violation_check, ima_add_violation): a zero-digest entry
 * whose PCR extend is 0xff..., the {@code violations} counter, and a type 1804 record; see the kernel's
 * own in spec/kernel-captures/measure-ima-ng (report.txt: {@code op=invalid_pcr cause=open_writers
 * comm="cat" name="/data/w" ... res=1}). Real shells and cats in a registered namespace.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ViolationTest {
    private static final String POLICY = "measure func=FILE_CHECK mask=MAY_READ\n";
    private static final String ZERO = " ima-ng sha256:" + "0".repeat(64) + " ";

    private DaemonFixture daemon;

    @AfterEach
    void tearDown() throws Exception {
        if (daemon != null) {
            daemon.close();
        }
    }

    private List<String> lines(Namespace ns) throws Exception {
        return Files.readString(daemon.control.resolve(ns.nsid + "/ascii_runtime_measurements"),
                StandardCharsets.US_ASCII).lines().toList();
    }

    private String violations(Namespace ns) throws Exception {
        return Files.readString(daemon.control.resolve(ns.nsid + "/violations"));
    }

    private List<String> pcrRecords() throws Exception {
        return daemon.auditLines().stream().filter(l -> l.startsWith("type=1804 ")).toList();
    }

    private static String sha256(String s) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void aMeasuredReadWhileAWriterHasTheFileOpenIsAnOpenWritersViolationEachTime() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Namespace ns = daemon.namespace(POLICY);
        // The shell keeps a writer open (fd 3) while cat reads twice; 6.1 records every such open.
        ns.shOk("echo w > /tmp/w; exec 3>>/tmp/w; cat /tmp/w; cat /tmp/w; exec 3>&-");
        List<String> l = lines(ns);
        assertThat(l).hasSize(4);
        // The violation comes first (the check runs before the measurement), the file is measured once.
        assertThat(l.get(1)).isEqualTo("10 " + "0".repeat(40) + ZERO + "/tmp/w");
        assertThat(l.get(2)).endsWith(" ima-ng sha256:" + sha256("w\n") + " /tmp/w");
        assertThat(l.get(3)).isEqualTo(l.get(1));
        assertThat(violations(ns)).isEqualTo("2\n");
        assertThat(pcrRecords()).hasSize(2).allSatisfy(r -> assertThat(r).matches(
                "type=1804 audit\\(\\d+\\.\\d{3}:\\d+\\): pid=\\d+ uid=0 auid=\\d+ ses=\\d+ op=\"invalid_pcr\""
                        + " cause=\"open_writers\" comm=\"cat\" name=\"/tmp/w\" mnt_ns=" + ns.nsid
                        + " dev=\"tmpfs\" ino=\\d+ res=1"));

        // Without a writer, reads add nothing more.
        ns.shOk("cat /tmp/w");
        assertThat(lines(ns)).hasSize(4);
        assertThat(violations(ns)).isEqualTo("2\n");

        // The violation extends its PCR with 0xff...: the list replays, evmctl-style, only as such.
        byte[] binary = Files.readAllBytes(daemon.control.resolve(ns.nsid + "/binary_runtime_measurements"));
        ListVerifier.Report report = ListVerifier.replay(BinaryList.read(binary, HashAlgo.SHA1), List.of(HashAlgo.SHA1));
        assertThat(report.digestsValid()).isTrue();
        var held = daemon.daemon.measurements().current(new dev.imans.ns.PolicyTarget.Namespace(
                new dev.imans.ns.NamespaceId(ns.nsid))).orElseThrow();
        assertThat(report.perBank().get(HashAlgo.SHA1)).isEqualTo(held.bank(HashAlgo.SHA1));
        assertThat(held.violations()).isEqualTo(2);
        // evmctl replays violations as 0xff... only with --ignore-violations, as for the kernel's list.
        java.nio.file.Path work = daemon.base.resolve("evmctl");
        Files.createDirectories(work);
        Files.write(work.resolve("list"), binary);
        Files.writeString(work.resolve("pcrs.sha1"), dev.imans.measure.PcrFile.format(held.bank(HashAlgo.SHA1)));
        Run.Result ok = Run.run("evmctl", "ima_measurement", "--ignore-violations", "--pcrs",
                "sha1," + work.resolve("pcrs.sha1"), work.resolve("list").toString());
        assertThat(ok.exit()).as(ok.out() + ok.err()).isZero();
        assertThat(ok.out() + ok.err()).contains("Matched per TPM bank calculated digest(s).");
        Run.Result strict = Run.run("evmctl", "ima_measurement", "--pcrs", "sha1," + work.resolve("pcrs.sha1"),
                work.resolve("list").toString());
        assertThat(strict.exit()).as(strict.out() + strict.err()).isEqualTo(1);
    }

    @Test
    void aWriterOpeningAFileAMeasuredReaderHoldsIsAToMToUViolation() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Namespace ns = daemon.namespace(POLICY);
        // fd 3 writes while fd 5 is opened for reading (open_writers); with fd 3 closed, a new writer
        // opens the file the shell still reads through fd 5 (ToMToU, the shell's own record).
        ns.shOk("echo t > /tmp/t; exec 3>>/tmp/t; exec 5</tmp/t; exec 3>&-; echo x >> /tmp/t; exec 5<&-");
        List<String> l = lines(ns);
        assertThat(l).hasSize(4);
        assertThat(l.get(1)).isEqualTo("10 " + "0".repeat(40) + ZERO + "/tmp/t");
        assertThat(l.get(2)).endsWith(" ima-ng sha256:" + sha256("t\n") + " /tmp/t");
        assertThat(l.get(3)).isEqualTo(l.get(1));
        assertThat(violations(ns)).isEqualTo("2\n");
        List<String> records = pcrRecords();
        assertThat(records).hasSize(2);
        assertThat(records.get(0)).contains(" cause=\"open_writers\" comm=\"sh\" name=\"/tmp/t\" ");
        assertThat(records.get(1)).contains(" op=\"invalid_pcr\" cause=\"ToMToU\" comm=\"sh\" name=\"/tmp/t\" mnt_ns="
                + ns.nsid + " dev=\"tmpfs\" ").endsWith(" res=1");

        // A writer with no reader holding the file records nothing.
        ns.shOk("echo y >> /tmp/t; cat /tmp/t > /dev/null; echo z >> /tmp/t");
        assertThat(violations(ns)).isEqualTo("2\n");
        assertThat(pcrRecords()).hasSize(2);
    }

    /**
     * Without a {@code mask=} rule the open's mode matters to the violation checks alone: a read of a file
     * that nobody holds open for writing is known to be one by a read lease, and the opener's call is read
     * only beside a writer. Readers and writers make the same violations as when the call is read (above).
     */
    @Test
    void withoutAMaskRuleReadersAndWritersAreToldApartAsWithIt() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Namespace ns = daemon.namespace("measure fsmagic=0x01021994\n");
        // cat beside a writer: the call is read, and each read is an open_writers violation; the writer's
        // own open (its write access is taken before its permission event) is no reader's.
        ns.shOk("echo w > /tmp/w; exec 3>>/tmp/w; cat /tmp/w; cat /tmp/w; exec 3>&-");
        assertThat(violations(ns)).isEqualTo("2\n");
        assertThat(pcrRecords()).hasSize(2).allSatisfy(r -> assertThat(r)
                .contains(" cause=\"open_writers\" comm=\"cat\" name=\"/tmp/w\" "));
        ns.shOk("cat /tmp/w");
        assertThat(violations(ns)).isEqualTo("2\n");

        // A reader that opened the file with no writer about (known by the lease alone) is a reader: a
        // writer that opens the file while it holds it makes a ToMToU violation (seen by the watcher, the
        // file being ignore-marked by then). The writer waits for the mark: one that opens the file while
        // the mark is being placed is recorded twice, by its permission event and by the watcher.
        ns.shOk("echo t > /tmp/t");
        ns.shOk("(exec 5</tmp/t; sleep 3) & sleep 0.5; exec 3>>/tmp/t; sleep 1; exec 3>&-; wait");
        dev.imans.daemon.Eventually.eventually(() -> assertThat(violations(ns)).as(String.join("\n", pcrRecords()))
                .isEqualTo("3\n"));
        assertThat(pcrRecords()).hasSize(3);
        assertThat(pcrRecords().get(2)).contains(" cause=\"ToMToU\" comm=\"sh\" name=\"/tmp/t\" ");
    }

    @Test
    void aLongLivedWriterOfAnIgnoreMarkedFileIsSeenByTheWatcher() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Namespace ns = daemon.namespace(POLICY);
        ns.shOk("echo m > /tmp/m");
        ns.shOk("cat /tmp/m");
        var engine = daemon.enforcement().engine().metrics();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (engine.ignoreMarksAdded() == 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(engine.ignoreMarksAdded()).as("measured, so ignore-marked").isPositive();
        // A reader process holds the file (opened through the mark: the watcher sees it), then another
        // process opens it for writing, also through the mark, and keeps it open a moment.
        ns.shOk("(exec 5</tmp/m; sleep 5) & sleep 0.5; exec 3>>/tmp/m; sleep 3; exec 3>&-; wait");
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!violations(ns).equals("1\n") && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(violations(ns)).isEqualTo("1\n");
        assertThat(lines(ns).getLast()).isEqualTo("10 " + "0".repeat(40) + ZERO + "/tmp/m");
        assertThat(pcrRecords()).singleElement().asString().contains(" cause=\"ToMToU\" comm=\"sh\" name=\"/tmp/m\" ");
    }
}
