package dev.imans.measure;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imans.crypto.HashAlgo;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Known answers from a real kernel (Debian 6.1, no TPM, see report.txt beside each list): the
 * lists must read, render and re-encode byte for byte, and replay to the PCR values evmctl
 * accepted for them.
 */
class KernelCaptureTest {
    static final HexFormat HEX = HexFormat.of();

    /** One capture: its directory, template, ima_hash and PCR-10 (sha1, sha256) as evmctl matched them. */
    enum Capture {
        IMA("measure-ima", Template.IMA, HashAlgo.SHA1,
                "2e04adc13ebd68f40841cb50427b4e79be290ae7",
                "19a19d3468b7fe11c5d8441a574653769d31f7d4e950584c6856b6f56a96f338"),
        IMA_NG("measure-ima-ng", Template.IMA_NG, HashAlgo.SHA256,
                "4ca55c24ca9d7c92f85c0811a7f4fb7280050cb5",
                "f418de16ac7adf25c43656abff02b318b6d164bfd4ecfc18f66cec6144d67992"),
        IMA_SIG("measure-ima-sig", Template.IMA_SIG, HashAlgo.SHA256,
                "52c4f1355d9d835d1ecb67e395ced6a3f747a4a8",
                "5dfd080b8dd70f02e5c2146caf36fee1fd85f80dc705ae92b55a9ad2c3a21b16");

        final String dir;
        final Template template;
        final HashAlgo imaHash;
        final String pcr10Sha1;
        final String pcr10Sha256;

        Capture(String dir, Template template, HashAlgo imaHash, String sha1, String sha256) {
            this.dir = dir;
            this.template = template;
            this.imaHash = imaHash;
            this.pcr10Sha1 = sha1;
            this.pcr10Sha256 = sha256;
        }

        byte[] binary() {
            return resource(dir + "/binary_runtime_measurements");
        }

        byte[] ascii() {
            return resource(dir + "/ascii_runtime_measurements");
        }
    }

    static byte[] resource(String name) {
        try (InputStream in = KernelCaptureTest.class.getResourceAsStream(name)) {
            assertThat(in).as(name).isNotNull();
            return in.readAllBytes();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @ParameterizedTest
    @EnumSource(Capture.class)
    void binaryRendersToTheKernelsAsciiByteForByte(Capture c) throws Exception {
        List<ListRecord> records = BinaryList.read(c.binary(), HashAlgo.SHA1);
        assertThat(records).hasSize(13);
        assertThat(new String(AsciiList.renderRecords(records), "UTF-8")).isEqualTo(new String(c.ascii(), "UTF-8"));
        assertThat(AsciiList.renderRecords(records)).isEqualTo(c.ascii());
        List<MeasurementEntry> entries = records.stream().map(ListRecord::entry).toList();
        assertThat(AsciiList.render(entries, HashAlgo.SHA1)).isEqualTo(c.ascii());
    }

    @ParameterizedTest
    @EnumSource(Capture.class)
    void binaryReEncodesByteForByte(Capture c) throws Exception {
        List<ListRecord> records = BinaryList.read(c.binary(), HashAlgo.SHA1);
        assertThat(BinaryList.writeRecords(records)).isEqualTo(c.binary());
        assertThat(BinaryList.write(records.stream().map(ListRecord::entry).toList(), HashAlgo.SHA1))
                .isEqualTo(c.binary());
    }

    @ParameterizedTest
    @EnumSource(Capture.class)
    void asciiReadsBackToTheSameRecords(Capture c) throws Exception {
        List<ListRecord> fromBinary = BinaryList.read(c.binary(), HashAlgo.SHA1);
        List<ListRecord> fromAscii = AsciiList.read(c.ascii(), HashAlgo.SHA1);
        assertThat(fromAscii).hasSameSizeAs(fromBinary);
        for (int i = 0; i < fromAscii.size(); i++) {
            assertThat(fromAscii.get(i).entry()).as("entry %d", i).isEqualTo(fromBinary.get(i).entry());
            assertThat(fromAscii.get(i).storedDigest()).isEqualTo(fromBinary.get(i).storedDigest());
        }
        assertThat(BinaryList.writeRecords(fromAscii)).isEqualTo(c.binary());
    }

    @ParameterizedTest
    @EnumSource(Capture.class)
    void everyTemplateDigestRecomputesAndViolationsAreZero(Capture c) throws Exception {
        List<ListRecord> records = BinaryList.read(c.binary(), HashAlgo.SHA1);
        List<Integer> violations = new ArrayList<>();
        for (int i = 0; i < records.size(); i++) {
            ListRecord r = records.get(i);
            assertThat(r.digestMatches()).as("record %d", i).isTrue();
            if (r.entry().isViolation()) {
                violations.add(i);
                assertThat(r.storedDigest()).isEqualTo(new byte[20]);
            } else {
                assertThat(r.entry().digest(HashAlgo.SHA1)).isEqualTo(r.storedDigest());
            }
        }
        // /data/w (open_writers) and /data/t (ToMToU), as the kernel log reports them.
        assertThat(violations).containsExactly(7, 10);
        assertThat(records.get(7).entry().eventName()).isEqualTo("/data/w");
        assertThat(records.get(10).entry().eventName()).isEqualTo("/data/t");
    }

    @ParameterizedTest
    @EnumSource(Capture.class)
    void entriesMadeFromFactsEqualTheKernels(Capture c) throws Exception {
        List<ListRecord> records = BinaryList.read(c.binary(), HashAlgo.SHA1);
        // No TPM: boot_aggregate is zeros of ima_hash (and of sha1 in the d field).
        assertThat(BootAggregate.entry(c.template, c.imaHash, Map.of())).isEqualTo(records.get(0).entry());
        assertThat(MeasurementEntry.create(10, c.template, EventData.violation("/data/w").build(), c.imaHash))
                .isEqualTo(records.get(7).entry());
        // The space in the name becomes '_' before hashing.
        MeasurementEntry spaced = records.get(3).entry();
        MeasurementEntry made = MeasurementEntry.create(10, c.template,
                EventData.file("/data/name with space", fileDigest(spaced)).build(), c.imaHash);
        assertThat(made).isEqualTo(spaced);
        assertThat(made.digest(HashAlgo.SHA1)).isEqualTo(records.get(3).storedDigest());
        if (c == Capture.IMA_SIG) {
            // /data/signed carries a v2 signature header (0x03 0x02 ...): the sig field keeps it.
            MeasurementEntry signed = records.get(4).entry();
            byte[] sig = HEX.parseHex("030204aabbccdd00080102030405060708");
            assertThat(MeasurementEntry.create(10, c.template,
                    EventData.file("/data/signed", fileDigest(signed)).imaXattr(sig).build(), c.imaHash))
                    .isEqualTo(signed);
            // A hash label (0x04) is not a signature: the field stays empty.
            MeasurementEntry hashed = records.get(5).entry();
            byte[] label = new byte[34];
            label[0] = 4;
            label[1] = 4;
            assertThat(MeasurementEntry.create(10, c.template,
                    EventData.file("/data/hashed", fileDigest(hashed)).imaXattr(label).build(), c.imaHash))
                    .isEqualTo(hashed);
        }
    }

    private static MeasuredDigest fileDigest(MeasurementEntry e) {
        byte[] f = e.field(0);
        if (e.template().isIma()) {
            return new MeasuredDigest(HashAlgo.SHA1, f);
        }
        int nul = DataFormat.indexOf(f, (byte) 0);
        HashAlgo algo = HashAlgo.byName(new String(f, 0, nul - 1)).orElseThrow();
        return new MeasuredDigest(algo, java.util.Arrays.copyOfRange(f, nul + 1, f.length));
    }

    @ParameterizedTest
    @EnumSource(Capture.class)
    void listReplaysToThePcrValuesEvmctlMatched(Capture c) throws Exception {
        List<ListRecord> records = BinaryList.read(c.binary(), HashAlgo.SHA1);
        MeasurementList list = new MeasurementList(c.imaHash, MeasurementList.DEFAULT_BANKS);
        for (ListRecord r : records) {
            assertThat(list.add(r.entry())).isEqualTo(MeasurementList.AddResult.ADDED);
        }
        assertThat(list.runtimeMeasurementsCount()).isEqualTo(13);
        assertThat(list.violations()).isEqualTo(2);
        assertThat(list.bank(HashAlgo.SHA1).hex(10)).isEqualTo(c.pcr10Sha1);
        assertThat(list.bank(HashAlgo.SHA256).hex(10)).isEqualTo(c.pcr10Sha256);
        for (int i = 0; i < PcrBank.PCR_COUNT; i++) {
            assertThat(list.bank(HashAlgo.SHA1).isZero(i)).isEqualTo(i != 10);
        }
        // hash_exists: the same measurement again is not added, a violation always is.
        assertThat(list.add(records.get(1).entry())).isEqualTo(MeasurementList.AddResult.DUPLICATE);
        assertThat(list.add(records.get(7).entry())).isEqualTo(MeasurementList.AddResult.ADDED);
        assertThat(list.violations()).isEqualTo(3);

        ListVerifier.Report report = ListVerifier.replay(records, MeasurementList.DEFAULT_BANKS);
        assertThat(report.digestsValid()).isTrue();
        assertThat(report.violations()).isEqualTo(2);
        assertThat(report.pcrsUsed()).containsExactly(10);
        assertThat(report.perBank().get(HashAlgo.SHA256).hex(10)).isEqualTo(c.pcr10Sha256);
        assertThat(report.compare(HashAlgo.SHA1, 10, HEX.parseHex(c.pcr10Sha1))).isEqualTo(ListVerifier.Match.PER_BANK);
        assertThat(report.compare(HashAlgo.SHA256, 10, report.padded().get(HashAlgo.SHA256).value(10)))
                .isEqualTo(ListVerifier.Match.SHA1_PADDED);
    }

    @ParameterizedTest
    @EnumSource(Capture.class)
    void sha256FileVariantRoundTrips(Capture c) throws Exception {
        List<MeasurementEntry> entries = BinaryList.read(c.binary(), HashAlgo.SHA1).stream().map(ListRecord::entry).toList();
        byte[] sha256File = BinaryList.write(entries, HashAlgo.SHA256);
        List<ListRecord> back = BinaryList.read(sha256File, HashAlgo.SHA256);
        assertThat(back).allMatch(ListRecord::digestMatches);
        assertThat(back.stream().map(ListRecord::entry).toList()).isEqualTo(entries);
        String ascii = new String(AsciiList.renderRecords(back), "UTF-8");
        assertThat(ascii.lines().findFirst().orElseThrow()).matches("10 [0-9a-f]{64} " + c.template.name() + " .*");
        List<ListRecord> fromAscii = AsciiList.read(ascii.getBytes("UTF-8"), HashAlgo.SHA256);
        assertThat(BinaryList.writeRecords(fromAscii)).isEqualTo(sha256File);
    }
}
