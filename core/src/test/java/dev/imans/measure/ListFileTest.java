package dev.imans.measure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.imans.crypto.HashAlgo;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The append-only list file ({@link MeasurementListCodec}): a last record cut anywhere (a writer killed
 * inside its write) or a tail of zeros (a power failure) is dropped with everything before it kept;
 * damage anywhere else is refused.
 */
class ListFileTest {
    static java.util.stream.LongStream seeds() {
        return RandomListTest.seeds().limit(12);
    }

    private static MeasurementList copyOf(List<MeasurementEntry> entries, HashAlgo imaHash) {
        MeasurementList l = new MeasurementList(imaHash, MeasurementList.DEFAULT_BANKS);
        entries.forEach(l::add);
        return l;
    }

    private static void assertSameList(MeasurementList actual, MeasurementList expected) {
        assertThat(actual.snapshot().entries()).containsExactlyElementsOf(expected.snapshot().entries());
        assertThat(actual.runtimeMeasurementsCount()).isEqualTo(expected.runtimeMeasurementsCount());
        assertThat(actual.violations()).isEqualTo(expected.violations());
        for (HashAlgo a : MeasurementList.DEFAULT_BANKS) {
            assertThat(actual.bank(a)).isEqualTo(expected.bank(a));
        }
    }

    @ParameterizedTest
    @MethodSource("seeds")
    void aLastRecordCutAtAnyByteIsDroppedAndTheRestKept(long seed) throws Exception {
        MeasurementList full = RandomListTest.randomList(new Random(seed));
        List<MeasurementEntry> entries = full.snapshot().entries();
        // One more entry, so that the cut one is never the boot_aggregate.
        MeasurementEntry last = MeasurementEntry.create(10, Template.IMA_NG,
                EventData.file("/last", new MeasuredDigest(HashAlgo.SHA256, new byte[32])).build(), full.imaHash());
        MeasurementList before = copyOf(entries, full.imaHash());
        full.add(last);
        byte[] whole = MeasurementListCodec.save(full);
        byte[] kept = MeasurementListCodec.save(before);
        assertThat(Arrays.copyOf(whole, kept.length)).isEqualTo(kept);

        MeasurementListCodec.Restored intact = MeasurementListCodec.open(whole);
        assertThat(intact.torn()).isEmpty();
        assertThat(intact.end()).isEqualTo(whole.length);
        assertSameList(intact.list(), full);

        for (int cut = kept.length + 1; cut < whole.length; cut++) {
            MeasurementListCodec.Restored r = MeasurementListCodec.open(Arrays.copyOf(whole, cut));
            assertThat(r.torn()).as("cut at " + cut).isPresent();
            assertThat(r.torn().get()).contains((cut - kept.length) + " bytes at offset " + kept.length,
                    "cut short");
            assertThat(r.end()).isEqualTo(kept.length);
            assertThat(r.version()).isEqualTo(MeasurementListCodec.VERSION);
            assertSameList(r.list(), before);
            // The strict reader refuses what the tolerant one repairs.
            byte[] torn = Arrays.copyOf(whole, cut);
            assertThatThrownBy(() -> MeasurementListCodec.restore(torn)).isInstanceOf(ListFormatException.class)
                    .hasMessageContaining("torn tail");
        }
        // A record appended after the cut-off tail continues the list: same PCRs as never having torn.
        ByteArrayOutputStream again = new ByteArrayOutputStream();
        again.writeBytes(kept);
        MeasurementListCodec.writeRecord(again, last);
        assertSameList(MeasurementListCodec.open(again.toByteArray()).list(), full);
    }

    @Test
    void aTailOfZerosIsTornButOtherJunkAfterTheLastRecordIsRefused() throws Exception {
        MeasurementList list = RandomListTest.randomList(new Random(7));
        byte[] whole = MeasurementListCodec.save(list);
        for (int zeros : new int[] {1, 3, 4, 57, 4096}) {
            MeasurementListCodec.Restored r = MeasurementListCodec.open(Arrays.copyOf(whole, whole.length + zeros));
            assertThat(r.torn()).get().asString().contains(zeros + " bytes at offset " + whole.length);
            assertThat(r.end()).isEqualTo(whole.length);
            assertSameList(r.list(), list);
        }
        // PCR 99: not a record cut short but not a record at all.
        byte[] junk = Arrays.copyOf(whole, whole.length + 64);
        junk[whole.length] = 99;
        assertThatThrownBy(() -> MeasurementListCodec.open(junk)).isInstanceOf(ListFormatException.class)
                .hasMessageContaining("PCR index 99");
    }

    @Test
    void damageBeforeTheLastRecordIsRefused() throws Exception {
        MeasurementList list = new MeasurementList();
        list.add(BootAggregate.entry(Template.IMA_NG, HashAlgo.SHA256, java.util.Map.of()));
        list.add(MeasurementEntry.create(10, Template.IMA_NG,
                EventData.file("/a", new MeasuredDigest(HashAlgo.SHA256, new byte[32])).build(), HashAlgo.SHA256));
        byte[] whole = MeasurementListCodec.save(list);
        int boot = new String(whole, StandardCharsets.ISO_8859_1).indexOf("boot_aggregate");
        byte[] flipped = whole.clone();
        flipped[boot] ^= 1;
        assertThatThrownBy(() -> MeasurementListCodec.open(flipped)).hasMessageContaining("does not match");
        // Cut inside the first record with the second one still after it: the lengths no longer line up.
        byte[] spliced = new byte[whole.length - 5];
        int nameAt = boot - 4;
        System.arraycopy(whole, 0, spliced, 0, nameAt);
        System.arraycopy(whole, nameAt + 5, spliced, nameAt, whole.length - nameAt - 5);
        assertThatThrownBy(() -> MeasurementListCodec.open(spliced)).isInstanceOf(ListFormatException.class);
    }

    @Test
    void aVersion1FileIsReadForRewriting() throws Exception {
        MeasurementList list = RandomListTest.randomList(new Random(11));
        ByteArrayOutputStream v1 = new ByteArrayOutputStream();
        v1.writeBytes("IMANSML".getBytes(StandardCharsets.US_ASCII));
        v1.write(1);
        v1.write(list.imaHash().id());
        v1.write(2);
        v1.write(HashAlgo.SHA1.id());
        v1.write(HashAlgo.SHA256.id());
        v1.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(list.runtimeMeasurementsCount()).array());
        v1.writeBytes(BinaryList.write(list.snapshot().entries(), HashAlgo.SHA1));
        byte[] data = v1.toByteArray();
        MeasurementListCodec.Restored r = MeasurementListCodec.open(data);
        assertThat(r.version()).isEqualTo(1);
        assertThat(r.torn()).isEmpty();
        assertSameList(r.list(), list);
        // Version 1 files were written whole: a short one is damage, not a torn append.
        assertThatThrownBy(() -> MeasurementListCodec.open(Arrays.copyOf(data, data.length - 1)))
                .isInstanceOf(ListFormatException.class);
    }
}
