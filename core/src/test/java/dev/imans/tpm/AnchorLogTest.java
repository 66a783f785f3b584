package dev.imans.tpm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.imans.crypto.HashAlgo;
import dev.imans.measure.BootAggregate;
import dev.imans.measure.EventData;
import dev.imans.measure.MeasuredDigest;
import dev.imans.measure.MeasurementEntry;
import dev.imans.measure.PcrBank;
import dev.imans.measure.Template;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class AnchorLogTest {
    private static final List<TpmAlg> BANKS = List.of(TpmAlg.SHA1, TpmAlg.SHA256);

    static MeasurementEntry entry(String name) {
        return MeasurementEntry.create(10, Template.IMA_NG,
                EventData.file(name, new MeasuredDigest(HashAlgo.SHA256,
                        HashAlgo.SHA256.newDigest().digest(name.getBytes(StandardCharsets.UTF_8)))).build(), HashAlgo.SHA256);
    }

    private static List<MeasurementEntry> list(String... names) {
        List<MeasurementEntry> out = new ArrayList<>();
        out.add(BootAggregate.entry(Template.IMA_NG, HashAlgo.SHA256, Map.of()));
        for (String n : names) {
            out.add(entry(n));
        }
        return out;
    }

    private static AnchorLog.Parsed log(Map<String, List<MeasurementEntry>> lists) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new AnchorLog.Header("b00t", 23, BANKS).bytes());
        lists.forEach((scope, l) -> {
            for (int i = 0; i < l.size(); i++) {
                out.writeBytes(AnchorLog.Record.of(scope, i, l.get(i), BANKS).bytes());
            }
        });
        return AnchorLog.parse(out.toByteArray());
    }

    @Test
    void theReplayIsWhatTheSoftwareBankOfTheSameEntriesHolds() throws Exception {
        List<MeasurementEntry> l = list("/a", "/b");
        AnchorLog.Parsed p = log(Map.of("host", l));
        assertThat(p.header()).isEqualTo(new AnchorLog.Header("b00t", 23, BANKS));
        AnchorLog.Replay r = new AnchorLog.Replay(BANKS);
        p.records().forEach(r::extend);
        PcrBank sha1 = new PcrBank(HashAlgo.SHA1);
        PcrBank sha256 = new PcrBank(HashAlgo.SHA256);
        for (MeasurementEntry e : l) {
            sha1.extend(23, e.extendDigest(HashAlgo.SHA1));
            sha256.extend(23, e.extendDigest(HashAlgo.SHA256));
        }
        assertThat(r.values().get(TpmAlg.SHA1)).isEqualTo(sha1.value(23));
        assertThat(r.values().get(TpmAlg.SHA256)).isEqualTo(sha256.value(23));
    }

    @Test
    void aTornLastLineIsReportedAndNotARecord() throws Exception {
        byte[] whole = new AnchorLog.Header("b00t", 23, BANKS).bytes();
        byte[] rec = AnchorLog.Record.of("host", 0, entry("/a"), BANKS).bytes();
        byte[] data = Arrays.copyOf(whole, whole.length + rec.length - 5);
        System.arraycopy(rec, 0, data, whole.length, rec.length - 5);
        AnchorLog.Parsed p = AnchorLog.parse(data);
        assertThat(p.records()).isEmpty();
        assertThat(p.torn()).isTrue();
        assertThat(p.end()).isEqualTo(whole.length);
        byte[] bad = (new String(whole, StandardCharsets.US_ASCII) + "host 0 zz\n").getBytes(StandardCharsets.US_ASCII);
        assertThatThrownBy(() -> AnchorLog.parse(bad)).isInstanceOf(AnchorLog.FormatException.class);
    }

    @Test
    void theLongestPrefixThePcrHoldsIsFound() throws Exception {
        AnchorLog.Parsed p = log(Map.of("host", list("/a", "/b", "/c")));
        AnchorLog.Replay r = new AnchorLog.Replay(BANKS);
        r.extend(p.records().get(0));
        r.extend(p.records().get(1));
        assertThat(AnchorLog.matchingPrefix(BANKS, p.records(), r.values())).contains(2);
        assertThat(AnchorLog.matchingPrefix(BANKS, p.records(), new AnchorLog.Replay(BANKS).values())).contains(0);
        Map<TpmAlg, byte[]> other = new LinkedHashMap<>(r.values());
        other.put(TpmAlg.SHA1, new byte[20]);
        assertThat(AnchorLog.matchingPrefix(BANKS, p.records(), other)).isEqualTo(Optional.empty());
    }

    @Test
    void checkAcceptsListsRecordedWholeAndNamesEachDiscrepancy() throws Exception {
        Map<String, List<MeasurementEntry>> lists = new LinkedHashMap<>();
        lists.put("host", list("/h"));
        lists.put("4026532208", list("/a", "/b"));
        AnchorLog.Parsed p = log(lists);
        assertThat(AnchorCheck.check(p, lists).problems()).isEmpty();

        // An entry changed after it was extended.
        Map<String, List<MeasurementEntry>> tampered = new LinkedHashMap<>(lists);
        List<MeasurementEntry> t = new ArrayList<>(lists.get("4026532208"));
        t.set(2, entry("/evil"));
        tampered.put("4026532208", t);
        assertThat(AnchorCheck.check(p, tampered).problems()).singleElement().asString()
                .contains("4026532208 entry 2 (/evil)", "differ");

        // An entry at the end of a list with no record (listed after the log was read, or never
        // extended): not attested, said apart from the discrepancies.
        Map<String, List<MeasurementEntry>> grown = new LinkedHashMap<>(lists);
        grown.put("host", list("/h", "/hidden"));
        AnchorCheck.Report g = AnchorCheck.check(p, grown);
        assertThat(g.problems()).isEmpty();
        assertThat(g.unrecorded()).containsExactly(Map.entry("host", new AnchorCheck.Unrecorded(2, 1, "/hidden")));

        // A record left out before others: the entry it hid is found.
        List<AnchorLog.Record> skipping = new ArrayList<>(p.records());
        skipping.removeIf(r -> r.scope().equals("4026532208") && r.index() == 1);
        assertThat(AnchorCheck.check(new AnchorLog.Parsed(p.header(), skipping, List.of(), 0, false), lists).problems())
                .anySatisfy(s -> assertThat(s).contains("4026532208 entry 2: recorded out of list order"))
                .anySatisfy(s -> assertThat(s).contains("1 entry of its list not in the anchor log, before recorded"
                        + " ones (first: entry 1, /a)"));

        // A list that is not there.
        assertThat(AnchorCheck.check(p, Map.of("host", lists.get("host"))).problems())
                .hasSize(3).allSatisfy(s -> assertThat(s).contains("there is no list 4026532208"));

        // A record twice.
        List<AnchorLog.Record> twice = new ArrayList<>(p.records());
        twice.add(p.records().get(0));
        assertThat(AnchorCheck.check(new AnchorLog.Parsed(p.header(), twice, List.of(), 0, false), lists).problems())
                .singleElement().asString().contains("host entry 0: recorded more than once");
    }

    @Test
    void anEndLineGivesTheRecordsBeforeItToTheArchivedListAndAReusedInodeStartsAgain() throws Exception {
        List<MeasurementEntry> first = list("/old");
        List<MeasurementEntry> second = list("/new-1", "/new-2");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new AnchorLog.Header("b00t", 23, BANKS).bytes());
        for (int i = 0; i < first.size(); i++) {
            out.writeBytes(AnchorLog.Record.of("4026532208", i, first.get(i), BANKS).bytes());
        }
        out.writeBytes(AnchorLog.End.bytes("4026532208", "4026532208-20261130T003411.123Z.list"));
        for (int i = 0; i < second.size(); i++) {
            out.writeBytes(AnchorLog.Record.of("4026532208", i, second.get(i), BANKS).bytes());
        }
        AnchorLog.Parsed p = AnchorLog.parse(out.toByteArray());
        assertThat(p.records()).hasSize(5);
        assertThat(p.ends()).containsExactly(new AnchorLog.End("4026532208", "4026532208-20261130T003411.123Z.list", 2));
        assertThat(AnchorLog.listKeys(p)).containsExactly("4026532208@4026532208-20261130T003411.123Z.list",
                "4026532208@4026532208-20261130T003411.123Z.list", "4026532208", "4026532208", "4026532208");
        Map<String, List<MeasurementEntry>> lists = new LinkedHashMap<>();
        lists.put("4026532208@4026532208-20261130T003411.123Z.list", first);
        lists.put("4026532208", second);
        AnchorCheck.Report r = AnchorCheck.check(p, lists);
        assertThat(r.problems()).isEmpty();
        assertThat(r.unrecorded()).isEmpty();
        // The archived list swapped for the live one: each record is checked against its own list.
        Map<String, List<MeasurementEntry>> swapped = new LinkedHashMap<>();
        swapped.put("4026532208@4026532208-20261130T003411.123Z.list", second);
        swapped.put("4026532208", first);
        assertThat(AnchorCheck.check(p, swapped).problems()).isNotEmpty();
    }

    @Test
    void violationsExtendOnes() {
        MeasurementEntry v = MeasurementEntry.create(10, Template.IMA_NG, EventData.violation("/v").build(), HashAlgo.SHA256);
        byte[] ff = new byte[32];
        Arrays.fill(ff, (byte) 0xff);
        assertThat(AnchorLog.digest(v, TpmAlg.SHA256)).isEqualTo(ff);
    }
}
