package dev.imans.measure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.imans.crypto.HashAlgo;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Bad lists get an offset and a reason, never another exception. */
class MalformedListTest {
    static byte[] ng() {
        return KernelCaptureTest.resource("measure-ima-sig/binary_runtime_measurements");
    }

    @Test
    void everyTruncationIsAnErrorOrEndsAtARecordBoundary() throws Exception {
        for (String capture : List.of("measure-ima", "measure-ima-sig")) {
            byte[] full = KernelCaptureTest.resource(capture + "/binary_runtime_measurements");
            List<ListRecord> records = BinaryList.read(full, HashAlgo.SHA1);
            for (int len = 0; len < full.length; len++) {
                byte[] cut = Arrays.copyOf(full, len);
                Throwable t = catchThrowable(() -> BinaryList.read(cut, HashAlgo.SHA1));
                int l = len;
                boolean boundary = len == 0 || records.stream().anyMatch(r -> r.offset() == l);
                if (boundary) {
                    assertThat(t).as("cut at %d", len).isNull();
                } else {
                    assertThat(t).as("cut at %d", len).isInstanceOf(ListFormatException.class)
                            .hasMessageContaining("truncated");
                }
            }
        }
    }

    @Test
    void everySingleByteFlipIsReadOrRejectedCleanly() {
        byte[] full = ng();
        for (int i = 0; i < full.length; i++) {
            byte[] b = full.clone();
            b[i] ^= (byte) 0xa5;
            Throwable t = catchThrowable(() -> {
                List<ListRecord> r = BinaryList.read(b, HashAlgo.SHA1);
                AsciiList.renderRecords(r);
                ListVerifier.replay(r, MeasurementList.DEFAULT_BANKS);
            });
            assertThat(t).as("flip at %d", i).satisfiesAnyOf(x -> assertThat(x).isNull(),
                    x -> assertThat(x).isInstanceOf(ListFormatException.class));
        }
    }

    @Test
    void oversizeLengthsAndUnknownTemplatesNameTheOffset() {
        byte[] full = ng();
        int second = 4 + 20 + 4 + 7 + 4 + 0x43; // first record: ima-sig, template data 0x43
        byte[] huge = full.clone();
        ByteBuffer.wrap(huge).order(ByteOrder.LITTLE_ENDIAN).putInt(second + 4 + 20 + 4 + 7, 0x7fffffff);
        assertThatThrownBy(() -> BinaryList.read(huge, HashAlgo.SHA1)).isInstanceOf(ListFormatException.class)
                .hasMessage("offset " + second + ": truncated record: template data length 2147483647 exceeds the " + (full.length - second - 39) + " bytes left");
        byte[] name = full.clone();
        name[second + 4 + 20 + 4] = 'X';
        assertThatThrownBy(() -> BinaryList.read(name, HashAlgo.SHA1))
                .hasMessage("offset " + second + ": unknown template 'Xma-sig'");
        byte[] pcr = full.clone();
        pcr[second + 3] = 1;
        assertThatThrownBy(() -> BinaryList.read(pcr, HashAlgo.SHA1)).hasMessageContaining("PCR index 16777226 out of range");
        byte[] nameLen = full.clone();
        ByteBuffer.wrap(nameLen).order(ByteOrder.LITTLE_ENDIAN).putInt(24, -1);
        assertThatThrownBy(() -> BinaryList.read(nameLen, HashAlgo.SHA1)).hasMessage("offset 0: template name length 4294967295 not in 1-255");
        byte[] field = full.clone();
        ByteBuffer.wrap(field).order(ByteOrder.LITTLE_ENDIAN).putInt(4 + 20 + 4 + 7 + 4, 0x44);
        assertThatThrownBy(() -> BinaryList.read(field, HashAlgo.SHA1))
                .hasMessage("offset 0: field d-ng length 68 exceeds the 63 bytes left in the template data");
    }

    @Test
    void asciiReaderRejectsBadLines() {
        assertThatThrownBy(() -> AsciiList.read("10 abcd ima-ng sha256:00 /x\n".getBytes(), HashAlgo.SHA1))
                .hasMessageContaining("template digest has 2 bytes");
        assertThatThrownBy(() -> AsciiList.read(("10 " + "00".repeat(20) + " ima-ng sha256:00\n").getBytes(), HashAlgo.SHA1))
                .hasMessageContaining("has 2 fields, the line has 1");
        assertThatThrownBy(() -> AsciiList.read(("10 " + "00".repeat(20) + " ima-ng sha256:00 /x").getBytes(), HashAlgo.SHA1))
                .hasMessageContaining("no newline");
        assertThatThrownBy(() -> AsciiList.read(("99 " + "00".repeat(20) + " ima-ng sha256:00 /x\n").getBytes(), HashAlgo.SHA1))
                .hasMessageContaining("PCR index");
        assertThatThrownBy(() -> AsciiList.read(("10 " + "00".repeat(20) + " foo sha256:00 /x\n").getBytes(), HashAlgo.SHA1))
                .hasMessageContaining("unknown template 'foo'");
    }

    @Test
    void savedListsMustBeWholeAndIntact() throws Exception {
        MeasurementList list = new MeasurementList();
        list.add(BootAggregate.entry(Template.IMA_NG, HashAlgo.SHA256, java.util.Map.of()));
        byte[] saved = MeasurementListCodec.save(list);
        assertThatThrownBy(() -> MeasurementListCodec.restore(Arrays.copyOf(saved, 5))).hasMessageContaining("no IMANSML header");
        byte[] flipped = saved.clone();
        flipped[flipped.length - 3] ^= 1;
        assertThatThrownBy(() -> MeasurementListCodec.restore(flipped)).hasMessageContaining("does not match");
        assertThatThrownBy(() -> MeasurementListCodec.restore(Arrays.copyOf(saved, saved.length - 1)))
                .isInstanceOf(ListFormatException.class);
    }
}
