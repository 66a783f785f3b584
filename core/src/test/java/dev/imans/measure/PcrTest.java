package dev.imans.measure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.imans.crypto.HashAlgo;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PcrTest {
    static final HexFormat HEX = HexFormat.of();

    @Test
    void extendIsHashOfOldValueAndDigest() throws Exception {
        PcrBank b = new PcrBank(HashAlgo.SHA256);
        byte[] d = MessageDigest.getInstance("SHA-256").digest("x".getBytes());
        b.extend(10, d);
        byte[] expect = MessageDigest.getInstance("SHA-256").digest(concat(new byte[32], d));
        assertThat(b.value(10)).isEqualTo(expect);
        assertThat(b.isZero(9)).isTrue();
        assertThatThrownBy(() -> b.extend(24, d)).hasMessageContaining("out of range");
        assertThatThrownBy(() -> b.extend(1, new byte[20])).hasMessageContaining("32 bytes");
    }

    @Test
    void violationsExtendWithOnesOfTheBankSize() {
        MeasurementList list = new MeasurementList();
        list.add(MeasurementEntry.create(10, Template.IMA_NG, EventData.violation("/x").build(), HashAlgo.SHA256));
        PcrBank expect = new PcrBank(HashAlgo.SHA256);
        byte[] ff = new byte[32];
        java.util.Arrays.fill(ff, (byte) -1);
        expect.extend(10, ff);
        assertThat(list.bank(HashAlgo.SHA256)).isEqualTo(expect);
        assertThat(list.violations()).isEqualTo(1);
    }

    /** Known answers from {@code evmctl ima_boot_aggregate} over PCR i = bytes (i+1), i = 0..9. */
    @Test
    void bootAggregateFromFirmwarePcrsMatchesEvmctl() {
        PcrBank sha1 = new PcrBank(HashAlgo.SHA1);
        PcrBank sha256 = new PcrBank(HashAlgo.SHA256);
        for (int i = 0; i < 10; i++) {
            byte[] v1 = new byte[20];
            byte[] v2 = new byte[32];
            java.util.Arrays.fill(v1, (byte) (i + 1));
            java.util.Arrays.fill(v2, (byte) (i + 1));
            sha1.set(i, v1);
            sha256.set(i, v2);
        }
        assertThat(BootAggregate.compute(sha1).toString()).isEqualTo("sha1:b2488ad744b2db6363562caabef0cf64df623ea6");
        assertThat(BootAggregate.compute(sha256).toString())
                .isEqualTo("sha256:65155bfea1fbc8fb48c859e4fd61838a6ff6f215fc10e3a9ef71529c2ab77371");
        MeasurementEntry ng = BootAggregate.entry(Template.IMA_NG, HashAlgo.SHA256, Map.of(HashAlgo.SHA1, sha1, HashAlgo.SHA256, sha256));
        assertThat(new String(AsciiList.line(ng, ng.digest(HashAlgo.SHA1))))
                .endsWith(" ima-ng sha256:65155bfea1fbc8fb48c859e4fd61838a6ff6f215fc10e3a9ef71529c2ab77371 boot_aggregate\n");
        // The d field takes the SHA-1 bank, and zeros when the TPM has none.
        MeasurementEntry ima = BootAggregate.entry(Template.IMA, HashAlgo.SHA256, Map.of(HashAlgo.SHA1, sha1, HashAlgo.SHA256, sha256));
        assertThat(HEX.formatHex(ima.field(0))).isEqualTo("b2488ad744b2db6363562caabef0cf64df623ea6");
        MeasurementEntry imaNoSha1 = BootAggregate.entry(Template.IMA, HashAlgo.SHA256, Map.of(HashAlgo.SHA256, sha256));
        assertThat(imaNoSha1.field(0)).isEqualTo(new byte[20]);
        // ima_hash=sha512 with no sha512 bank falls back to SHA-256.
        assertThat(BootAggregate.chooseBank(HashAlgo.SHA512, List.of(HashAlgo.SHA1, HashAlgo.SHA256))).contains(HashAlgo.SHA256);
        assertThat(BootAggregate.chooseBank(HashAlgo.SHA512, List.of(HashAlgo.SHA1))).contains(HashAlgo.SHA1);
    }

    @Test
    void pcrFileRoundTripsAndAcceptsTheTpm12Style() throws Exception {
        PcrBank b = new PcrBank(HashAlgo.SHA1);
        b.extend(10, new byte[20]);
        String text = PcrFile.format(b);
        assertThat(text.lines()).hasSize(24).first().isEqualTo("PCR-00: " + "00".repeat(20));
        Map<Integer, byte[]> back = PcrFile.parse(text, HashAlgo.SHA1);
        assertThat(back.get(10)).isEqualTo(b.value(10));
        Map<Integer, byte[]> spaced = PcrFile.parse("junk\nPCR-03: 7A 4F 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01\n", HashAlgo.SHA1);
        assertThat(HEX.formatHex(spaced.get(3))).isEqualTo("7a4f" + "00".repeat(17) + "01");
        assertThatThrownBy(() -> PcrFile.parse("PCR-03: 00\n", HashAlgo.SHA1)).isInstanceOf(ListFormatException.class)
                .hasMessageContaining("sha1 needs 20");
        assertThatThrownBy(() -> PcrFile.parse("PCR-99: 00\n", HashAlgo.SHA1)).hasMessageContaining("out of range");
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
