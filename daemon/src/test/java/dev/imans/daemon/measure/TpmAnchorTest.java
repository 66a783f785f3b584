package dev.imans.daemon.measure;

import static dev.imans.daemon.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import dev.imans.crypto.HashAlgo;
import dev.imans.daemon.health.Condition;
import dev.imans.daemon.health.Degradation;
import dev.imans.daemon.health.Health;
import dev.imans.measure.BootAggregate;
import dev.imans.measure.EventData;
import dev.imans.measure.MeasuredDigest;
import dev.imans.measure.MeasurementEntry;
import dev.imans.measure.Template;
import dev.imans.tpm.AnchorLog;
import dev.imans.tpm.TpmAlg;
import dev.imans.tpm.TpmClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The anchor's order of writes and extensions against a TPM that fails in the ways a real one can: the
 * PCR always holds the replay of the log or of a prefix of it, and the daemon says when it does not.
 */
class TpmAnchorTest {
    private static final int PCR = 16;
    @TempDir
    Path state;
    private final FakeTpm tpm = new FakeTpm();
    private final Health health = new Health();
    private final List<TpmAnchor> opened = new ArrayList<>();

    @AfterEach
    void close() {
        opened.forEach(TpmAnchor::close);
        health.close();
    }

    private static MeasurementEntry entry(String name) {
        return MeasurementEntry.create(10, Template.IMA_NG, EventData.file(name, new MeasuredDigest(HashAlgo.SHA256,
                HashAlgo.SHA256.newDigest().digest(name.getBytes(StandardCharsets.UTF_8)))).build(), HashAlgo.SHA256);
    }

    private Map<String, List<MeasurementEntry>> lists(String... nsEntries) {
        Map<String, List<MeasurementEntry>> m = new LinkedHashMap<>();
        m.put("host", List.of(BootAggregate.entry(Template.IMA_NG, HashAlgo.SHA256, Map.of())));
        List<MeasurementEntry> ns = new ArrayList<>();
        ns.add(BootAggregate.entry(Template.IMA_NG, HashAlgo.SHA256, Map.of()));
        for (String n : nsEntries) {
            ns.add(entry(n));
        }
        m.put("4026532208", ns);
        return m;
    }

    private TpmAnchor start(Map<String, List<MeasurementEntry>> lists) throws Exception {
        TpmAnchor a = TpmAnchor.start(state, new TpmClient(tpm), PCR, "boot-1", health, () -> lists);
        opened.add(a);
        return a;
    }

    private AnchorLog.Parsed log() throws Exception {
        return AnchorLog.parse(Files.readAllBytes(TpmAnchor.logFile(state)));
    }

    /** The PCR holds the replay of the whole log, in both banks. */
    private void assertPcrIsTheLogsReplay() throws Exception {
        AnchorLog.Parsed p = log();
        AnchorLog.Replay r = new AnchorLog.Replay(p.header().banks());
        p.records().forEach(r::extend);
        for (TpmAlg a : tpm.algs()) {
            assertThat(tpm.value(a, PCR)).as(a.toString()).isEqualTo(r.values().get(a));
        }
    }

    private List<Condition> conditions() {
        return health.active().stream().map(Degradation::condition).toList();
    }

    @Test
    void aResetPcrStartsAnEpochOfEveryEntryAndEachAppendGoesOnFromIt() throws Exception {
        TpmAnchor a = start(lists("/a"));
        assertThat(log().records()).extracting(Object::toString)
                .containsExactly("host entry 0", "4026532208 entry 0", "4026532208 entry 1");
        assertThat(log().header()).isEqualTo(new AnchorLog.Header("boot-1", PCR, List.of(TpmAlg.SHA1, TpmAlg.SHA256)));
        assertPcrIsTheLogsReplay();
        assertThat(a.extend("4026532208", 2, entry("/b"))).isZero();
        assertPcrIsTheLogsReplay();
        assertThat(conditions()).isEmpty();
    }

    @Test
    void aRecordWrittenButNotExtendedIsExtendedAtStart() throws Exception {
        start(lists("/a")).close();
        // The daemon was killed between writing this record and extending the PCR with it.
        Files.write(TpmAnchor.logFile(state), AnchorLog.Record.of("4026532208", 2, entry("/b"),
                List.of(TpmAlg.SHA1, TpmAlg.SHA256)).bytes(), StandardOpenOption.APPEND);
        int before = tpm.extends_;
        start(lists("/a", "/b"));
        assertThat(tpm.extends_ - before).as("only the record not yet extended").isEqualTo(1);
        assertThat(log().records()).hasSize(4);
        assertPcrIsTheLogsReplay();
        assertThat(conditions()).isEmpty();
    }

    @Test
    void aTornRecordWasNeverExtendedAndIsDropped() throws Exception {
        start(lists("/a")).close();
        byte[] rec = AnchorLog.Record.of("4026532208", 2, entry("/b"), List.of(TpmAlg.SHA1, TpmAlg.SHA256)).bytes();
        Files.write(TpmAnchor.logFile(state), java.util.Arrays.copyOf(rec, rec.length / 2), StandardOpenOption.APPEND);
        // The list holds the entry whose record was cut off: it is recorded and extended anew.
        start(lists("/a", "/b"));
        assertThat(log().torn()).isFalse();
        assertThat(log().records()).hasSize(4);
        assertPcrIsTheLogsReplay();
    }

    @Test
    void aFailedExtensionIsReportedAndItAndThoseAfterItAreExtendedInOrderOnceTheTpmTakesThem() throws Exception {
        TpmAnchor a = start(lists());
        tpm.failWith = 0x901;
        assertThat(a.extend("4026532208", 1, entry("/a"))).isEqualTo(0x901);
        int tried = tpm.extends_;
        // Behind a pending record, the next one waits without reaching the TPM (order is the replay's).
        assertThat(a.extend("4026532208", 2, entry("/b"))).isEqualTo(0x901);
        assertThat(tpm.extends_).isEqualTo(tried);
        assertThat(conditions()).containsExactly(Condition.TPM_EXTEND_FAILED);
        assertThat(log().records()).hasSize(4);
        assertThat(a.stats().pending()).isEqualTo(2);
        assertThat(a.stats().records()).isEqualTo(4);
        assertThat(a.stats().failures()).isPositive();
        tpm.failWith = 0;
        eventually(() -> assertThat(conditions()).isEmpty());
        assertThat(a.stats().pending()).isZero();
        assertThat(a.stats().extensions()).isEqualTo(4);
        assertPcrIsTheLogsReplay();
        assertThat(a.extend("4026532208", 3, entry("/c"))).isZero();
        assertPcrIsTheLogsReplay();
    }

    @Test
    void anExtensionWhoseAnswerWasLostIsNotExtendedTwice() throws Exception {
        TpmAnchor a = start(lists());
        tpm.loseAnswer = true;
        assertThat(a.extend("4026532208", 1, entry("/a"))).isEqualTo(TpmAnchor.EIO);
        assertThat(conditions()).containsExactly(Condition.TPM_EXTEND_FAILED);
        eventually(() -> assertThat(conditions()).isEmpty());
        assertPcrIsTheLogsReplay();
    }

    @Test
    void aPcrThatDoesNotFollowTheLogIsReportedAndLeftAlone() throws Exception {
        start(lists("/a")).close();
        tpm.extendBehind(PCR);
        byte[] behind = tpm.value(TpmAlg.SHA256, PCR);
        TpmAnchor a = start(lists("/a"));
        assertThat(conditions()).containsExactly(Condition.TPM_ANCHOR_MISMATCH);
        assertThat(health.active().getFirst().cause()).contains("holds neither the replay");
        assertThat(a.extend("4026532208", 2, entry("/b"))).isZero();
        assertThat(tpm.value(TpmAlg.SHA256, PCR)).isEqualTo(behind);
    }

    @Test
    void concurrentAppendersToOneListAreRecordedInListOrderAndEachReturnsExtended() throws Exception {
        MeasurementStore store = MeasurementStore.open(state, HashAlgo.SHA256, Template.IMA_NG, List.of(), false,
                health, ArchivePolicy.DEFAULT);
        try {
            store.anchor(new TpmClient(tpm), PCR, "boot-1");
            int threads = 8;
            int each = 40;
            java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
            List<Thread> workers = new ArrayList<>();
            java.util.concurrent.atomic.AtomicInteger notExtended = new java.util.concurrent.atomic.AtomicInteger();
            for (int t = 0; t < threads; t++) {
                int id = t;
                workers.add(Thread.ofPlatform().start(() -> {
                    try {
                        go.await();
                        for (int i = 0; i < each; i++) {
                            String name = "/t" + id + "-" + i;
                            assertThat(store.append(java.util.OptionalLong.empty(), 10, Template.IMA_NG,
                                    EventData.file(name, new MeasuredDigest(HashAlgo.SHA256, HashAlgo.SHA256.newDigest()
                                            .digest(name.getBytes(StandardCharsets.UTF_8)))).build())).isZero();
                            // Returned: its record is in the log and the PCR holds it (the log only grows).
                            String log = Files.readString(TpmAnchor.logFile(state));
                            if (log.lines().count() < 4 + 2 + i || tpm.extensions() < 2 + i) {
                                notExtended.incrementAndGet();
                            }
                        }
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                }));
            }
            go.countDown();
            for (Thread w : workers) {
                w.join();
            }
            assertThat(notExtended).hasValue(0);
            AnchorLog.Parsed p = log();
            List<MeasurementEntry> host = store.current(new dev.imans.ns.PolicyTarget.Host()).orElseThrow().entries();
            assertThat(host).hasSize(1 + threads * each);
            // In list order: entry i of the host's list is the i-th host record.
            for (int i = 0; i < host.size(); i++) {
                assertThat(p.records().get(i).index()).isEqualTo(i);
            }
            dev.imans.tpm.AnchorCheck.Report r = dev.imans.tpm.AnchorCheck.check(p, Map.of("host", host));
            assertThat(r.problems()).isEmpty();
            assertThat(r.unrecorded()).isEmpty();
            assertPcrIsTheLogsReplay();
        } finally {
            store.close();
        }
    }

    @Test
    void aTpmUnavailableAtStartAnchorsEveryListOnceItAnswersAndEnforcementNeedNotWait() throws Exception {
        tpm.down = true;
        Map<String, List<MeasurementEntry>> lists = new java.util.concurrent.ConcurrentHashMap<>(lists("/a"));
        TpmAnchor a = TpmAnchor.start(state, new TpmClient(tpm), PCR, "boot-1", health, () -> new LinkedHashMap<>(lists));
        opened.add(a);
        assertThat(conditions()).containsExactly(Condition.TPM_UNAVAILABLE);
        // Listed meanwhile: the open is audited, and the entry is anchored with its list later.
        List<MeasurementEntry> ns = new ArrayList<>(lists.get("4026532208"));
        ns.add(entry("/b"));
        lists.put("4026532208", ns);
        assertThat(a.extend("4026532208", 2, ns.get(2))).isEqualTo(TpmAnchor.EIO);
        assertThat(Files.exists(TpmAnchor.logFile(state))).isFalse();
        tpm.down = false;
        eventually(() -> assertThat(conditions()).isEmpty());
        assertThat(log().records()).extracting(Object::toString)
                .containsExactly("host entry 0", "4026532208 entry 0", "4026532208 entry 1", "4026532208 entry 2");
        // An appender that waited while the start recorded its entry does not record it twice.
        assertThat(a.extend("4026532208", 2, ns.get(2))).isZero();
        assertThat(log().records()).hasSize(4);
        assertThat(a.extend("4026532208", 3, entry("/c"))).isZero();
        assertThat(log().records()).hasSize(5);
        assertPcrIsTheLogsReplay();
    }

    @Test
    void anEndedListIsClosedInTheLogAndAReusedInodeIsRecordedFromItsFirstEntry() throws Exception {
        Map<String, List<MeasurementEntry>> before = lists("/a");
        TpmAnchor a = start(before);
        a.ended("4026532208", "4026532208-20261130T003411.123Z.list");
        List<MeasurementEntry> reused = lists("/other").get("4026532208");
        for (int i = 0; i < reused.size(); i++) {
            assertThat(a.extend("4026532208", i, reused.get(i))).isZero();
        }
        AnchorLog.Parsed p = log();
        assertThat(p.records()).hasSize(5);
        Map<String, List<MeasurementEntry>> lists = new LinkedHashMap<>();
        lists.put("host", before.get("host"));
        lists.put("4026532208@4026532208-20261130T003411.123Z.list", before.get("4026532208"));
        lists.put("4026532208", reused);
        dev.imans.tpm.AnchorCheck.Report r = dev.imans.tpm.AnchorCheck.check(p, lists);
        assertThat(r.problems()).isEmpty();
        assertThat(r.unrecorded()).isEmpty();
        assertPcrIsTheLogsReplay();

        // A restart goes on from there: the ended list is not the live one of that inode.
        a.close();
        start(Map.of("host", before.get("host"), "4026532208", reused));
        assertThat(log().records()).hasSize(5);
        assertThat(conditions()).isEmpty();
    }
}
