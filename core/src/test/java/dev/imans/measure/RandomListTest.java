package dev.imans.measure;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imans.crypto.HashAlgo;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.LongStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Random lists from fixed seeds: every format round trip keeps entries, digests and PCRs. */
class RandomListTest {
    static LongStream seeds() {
        return LongStream.range(0, 40).map(i -> 0x1a2b3c4dL * (i + 1));
    }

    static final List<Template> TEMPLATES = List.of(Template.IMA, Template.IMA_NG, Template.IMA_SIG,
            Template.IMA_NGV2, Template.IMA_SIGV2, Template.IMA_BUF, Template.IMA_MODSIG, Template.EVM_SIG,
            Template.custom("d-ng|n-ng|iuid|igid|imode"));

    static MeasurementList randomList(Random rnd) {
        HashAlgo imaHash = rnd.nextBoolean() ? HashAlgo.SHA256 : HashAlgo.SHA1;
        MeasurementList list = new MeasurementList(imaHash, MeasurementList.DEFAULT_BANKS);
        Template boot = TEMPLATES.get(rnd.nextInt(TEMPLATES.size()));
        list.add(BootAggregate.entry(boot, imaHash, java.util.Map.of()));
        int n = rnd.nextInt(40);
        for (int i = 0; i < n; i++) {
            Template t = TEMPLATES.get(rnd.nextInt(TEMPLATES.size()));
            int pcr = rnd.nextInt(4) == 0 ? rnd.nextInt(PcrBank.PCR_COUNT) : 10;
            list.add(MeasurementEntry.create(pcr, t, randomEvent(rnd), imaHash));
        }
        return list;
    }

    static EventData randomEvent(Random rnd) {
        String path = randomPath(rnd);
        if (rnd.nextInt(8) == 0) {
            return EventData.violation(path).build();
        }
        HashAlgo algo = List.of(HashAlgo.SHA1, HashAlgo.SHA256, HashAlgo.SHA512).get(rnd.nextInt(3));
        EventData.Builder b = EventData.file(path, new MeasuredDigest(algo, bytes(rnd, algo.digestSize())))
                .sha1Digest(new MeasuredDigest(HashAlgo.SHA1, bytes(rnd, 20)))
                .verity(rnd.nextBoolean());
        if (rnd.nextBoolean()) {
            byte[] sig = bytes(rnd, 9 + rnd.nextInt(300));
            sig[0] = (byte) (rnd.nextBoolean() ? 3 : 6);
            b.imaXattr(sig);
        }
        if (rnd.nextBoolean()) {
            byte[] evm = bytes(rnd, 1 + rnd.nextInt(40));
            evm[0] = 5;
            b.evmXattr(evm);
        }
        if (rnd.nextBoolean()) {
            b.buf(bytes(rnd, rnd.nextInt(64)));
        }
        if (rnd.nextBoolean()) {
            b.modsig(bytes(rnd, 1 + rnd.nextInt(64)), new MeasuredDigest(HashAlgo.SHA256, bytes(rnd, 32)));
        }
        if (rnd.nextBoolean()) {
            b.owner(rnd.nextInt(), rnd.nextInt()).mode(rnd.nextInt(0x10000));
        }
        if (rnd.nextBoolean()) {
            List<ProtectedXattr> xs = new ArrayList<>();
            for (int i = rnd.nextInt(3); i > 0; i--) {
                xs.add(new ProtectedXattr("security.x" + rnd.nextInt(100), bytes(rnd, rnd.nextInt(10))));
            }
            b.xattrs(xs);
        }
        return b.build();
    }

    static String randomPath(Random rnd) {
        StringBuilder s = new StringBuilder();
        int parts = 1 + rnd.nextInt(rnd.nextInt(10) == 0 ? 40 : 4);
        String alphabet = "abcxyz019 ._-\u00e9";
        for (int i = 0; i < parts; i++) {
            s.append('/');
            for (int j = 1 + rnd.nextInt(12); j > 0; j--) {
                s.append(alphabet.charAt(rnd.nextInt(alphabet.length())));
            }
        }
        return s.toString();
    }

    static byte[] bytes(Random rnd, int n) {
        byte[] b = new byte[n];
        rnd.nextBytes(b);
        return b;
    }

    @ParameterizedTest
    @MethodSource("seeds")
    void binaryRoundTripKeepsEntriesAndDigests(long seed) throws Exception {
        MeasurementList list = randomList(new Random(seed));
        List<MeasurementEntry> entries = list.snapshot().entries();
        for (HashAlgo bank : MeasurementList.DEFAULT_BANKS) {
            byte[] bin = BinaryList.write(entries, bank);
            List<ListRecord> back = BinaryList.read(bin, bank);
            assertThat(back.stream().map(ListRecord::entry).toList()).isEqualTo(entries);
            assertThat(back).allMatch(ListRecord::digestMatches);
            assertThat(BinaryList.writeRecords(back)).isEqualTo(bin);
        }
    }

    @ParameterizedTest
    @MethodSource("seeds")
    void asciiRenderingIsStableAcrossRoundTrips(long seed) throws Exception {
        List<MeasurementEntry> entries = randomList(new Random(seed)).snapshot().entries();
        byte[] ascii = AsciiList.render(entries, HashAlgo.SHA1);
        List<ListRecord> fromBinary = BinaryList.read(BinaryList.write(entries, HashAlgo.SHA1), HashAlgo.SHA1);
        assertThat(AsciiList.renderRecords(fromBinary)).isEqualTo(ascii);
        List<ListRecord> fromAscii = AsciiList.read(ascii, HashAlgo.SHA1);
        assertThat(AsciiList.renderRecords(fromAscii)).isEqualTo(ascii);
        assertThat(new String(ascii, StandardCharsets.UTF_8).lines()).hasSize(entries.size());
    }

    @ParameterizedTest
    @MethodSource("seeds")
    void pcrsAndCountersSurviveSaveAndRestore(long seed) throws Exception {
        MeasurementList list = randomList(new Random(seed));
        MeasurementList back = MeasurementListCodec.restore(MeasurementListCodec.save(list));
        assertThat(back.snapshot().entries()).isEqualTo(list.snapshot().entries());
        assertThat(back.runtimeMeasurementsCount()).isEqualTo(list.runtimeMeasurementsCount());
        assertThat(back.violations()).isEqualTo(list.violations());
        assertThat(back.imaHash()).isEqualTo(list.imaHash());
        for (HashAlgo bank : MeasurementList.DEFAULT_BANKS) {
            assertThat(back.bank(bank)).isEqualTo(list.bank(bank));
        }
        ListVerifier.Report report = ListVerifier.replay(
                BinaryList.read(BinaryList.write(list.snapshot().entries(), HashAlgo.SHA1), HashAlgo.SHA1),
                MeasurementList.DEFAULT_BANKS);
        assertThat(report.digestsValid()).isTrue();
        assertThat(report.perBank().get(HashAlgo.SHA256)).isEqualTo(list.bank(HashAlgo.SHA256));
        assertThat(report.perBank().get(HashAlgo.SHA1)).isEqualTo(list.bank(HashAlgo.SHA1));
        // The restored list goes on deduplicating what it had.
        for (MeasurementEntry e : list.snapshot().entries()) {
            if (!e.isViolation()) {
                assertThat(back.add(e)).isEqualTo(MeasurementList.AddResult.DUPLICATE);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("seeds")
    void snapshotsDoNotChangeWhenTheListGrows(long seed) {
        Random rnd = new Random(seed);
        MeasurementList list = randomList(rnd);
        MeasurementList.Snapshot before = list.snapshot();
        List<MeasurementEntry> copy = List.copyOf(before.entries());
        PcrBank pcrs = before.bank(HashAlgo.SHA256);
        for (int i = 0; i < 100; i++) {
            list.add(MeasurementEntry.create(10, Template.IMA_NG, randomEvent(rnd), HashAlgo.SHA256));
        }
        assertThat(before.entries()).isEqualTo(copy);
        assertThat(before.bank(HashAlgo.SHA256)).isEqualTo(pcrs);
    }
}
