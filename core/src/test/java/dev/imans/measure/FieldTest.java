package dev.imans.measure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.imans.crypto.HashAlgo;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

class FieldTest {
    static final HexFormat HEX = HexFormat.of();
    static final MeasuredDigest SHA256 = new MeasuredDigest(HashAlgo.SHA256, new byte[32]);

    static String ascii(Field f, byte[] data) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        f.appendAscii(data, out);
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void nameFieldTruncatesLongPathsToTheBasenameAndNgKeepsThem() {
        String dir = "/" + "d".repeat(300);
        String path = dir + "/file name";
        EventData ev = EventData.file(path, SHA256).build();
        assertThat(Field.N.encode(ev, HashAlgo.SHA256)).isEqualTo("file_name\0".getBytes(StandardCharsets.US_ASCII));
        assertThat(Field.N_NG.encode(ev, HashAlgo.SHA256)).hasSize(path.length() + 1);
        String exactly255 = "/" + "x".repeat(254);
        assertThat(Field.N.encode(EventData.file(exactly255, SHA256).build(), HashAlgo.SHA256)).hasSize(256);
    }

    @Test
    void digestFieldsCarryTheirPrefixes() {
        byte[] d = HEX.parseHex("00".repeat(31) + "01");
        EventData ev = EventData.file("/f", new MeasuredDigest(HashAlgo.SHA256, d)).verity(true).build();
        assertThat(ascii(Field.D_NG, Field.D_NG.encode(ev, HashAlgo.SHA256))).isEqualTo("sha256:" + "00".repeat(31) + "01");
        assertThat(ascii(Field.D_NGV2, Field.D_NGV2.encode(ev, HashAlgo.SHA256))).isEqualTo("verity:sha256:" + "00".repeat(31) + "01");
        EventData v = EventData.violation("/f").build();
        assertThat(ascii(Field.D_NGV2, Field.D_NGV2.encode(v, HashAlgo.SHA512))).isEqualTo("ima:sha512:" + "00".repeat(64));
        assertThat(Field.D.encode(v, HashAlgo.SHA256)).isEqualTo(new byte[20]);
        assertThatThrownBy(() -> Field.D.encode(ev, HashAlgo.SHA256)).hasMessageContaining("sha1 or md5");
        EventData both = EventData.file("/f", SHA256).sha1Digest(new MeasuredDigest(HashAlgo.SHA1, new byte[20])).build();
        assertThat(Field.D.encode(both, HashAlgo.SHA256)).hasSize(20);
    }

    @Test
    void sigKeepsOnlySignaturesAndFallsBackToPortableEvmSignatures() {
        byte[] sigv3 = {0x06, 0x03, 0x04, 1, 2, 3, 4, 0, 1, 9};
        byte[] evmPortable = {0x05, 0x02, 0x04, 1, 2, 3, 4, 0, 1, 7};
        byte[] hmac = new byte[21];
        hmac[0] = 0x02;
        assertThat(Field.SIG.encode(EventData.file("/f", SHA256).imaXattr(sigv3).build(), HashAlgo.SHA256)).isEqualTo(sigv3);
        assertThat(Field.SIG.encode(EventData.file("/f", SHA256).imaXattr(new byte[] {4, 4}).evmXattr(evmPortable).build(),
                HashAlgo.SHA256)).isEqualTo(evmPortable);
        assertThat(Field.SIG.encode(EventData.file("/f", SHA256).evmXattr(hmac).build(), HashAlgo.SHA256)).isEmpty();
        assertThat(ascii(Field.SIG, sigv3)).isEqualTo("0603040102030400" + "0109");
    }

    @Test
    void evmSigFieldsFollowEvmReadProtectedXattrs() {
        EventData ev = EventData.file("/f", SHA256).owner(1000, 100).mode(0100644)
                .xattrs(List.of(new ProtectedXattr("security.ima", new byte[] {4, 4, 9}),
                        new ProtectedXattr("security.selinux", "a b\0".getBytes(StandardCharsets.US_ASCII))))
                .build();
        byte[] names = Field.XATTRNAMES.encode(ev, HashAlgo.SHA256);
        assertThat(names).isEqualTo("security.ima|security.selinux\0".getBytes(StandardCharsets.US_ASCII));
        assertThat(ascii(Field.XATTRNAMES, names)).isEqualTo("security.ima|security.selinux");
        assertThat(HEX.formatHex(Field.XATTRLENGTHS.encode(ev, HashAlgo.SHA256))).isEqualTo("0300000004000000");
        assertThat(HEX.formatHex(Field.XATTRVALUES.encode(ev, HashAlgo.SHA256))).isEqualTo("04040961206200");
        assertThat(ascii(Field.IUID, Field.IUID.encode(ev, HashAlgo.SHA256))).isEqualTo("1000");
        assertThat(ascii(Field.IGID, Field.IGID.encode(ev, HashAlgo.SHA256))).isEqualTo("100");
        assertThat(Field.IMODE.encode(ev, HashAlgo.SHA256)).isEqualTo(new byte[] {(byte) 0xa4, (byte) 0x81});
        assertThat(ascii(Field.IMODE, Field.IMODE.encode(ev, HashAlgo.SHA256))).isEqualTo("33188");
        assertThat(ascii(Field.IUID, new byte[] {-1, -1, -1, -1})).isEqualTo("4294967295");
        EventData bare = EventData.file("/f", SHA256).build();
        for (Field f : List.of(Field.XATTRNAMES, Field.XATTRLENGTHS, Field.XATTRVALUES, Field.IUID, Field.IMODE,
                Field.EVMSIG, Field.BUF, Field.MODSIG, Field.D_MODSIG)) {
            assertThat(f.encode(bare, HashAlgo.SHA256)).as(f.id()).isEmpty();
        }
    }

    @Test
    void modsigFieldsAndBuffers() {
        MeasuredDigest without = new MeasuredDigest(HashAlgo.SHA512, new byte[64]);
        EventData ev = EventData.file("/m.ko", SHA256).modsig(new byte[] {0x30, 0x01}, without).build();
        assertThat(ascii(Field.D_MODSIG, Field.D_MODSIG.encode(ev, HashAlgo.SHA256))).isEqualTo("sha512:" + "00".repeat(64));
        assertThat(ascii(Field.MODSIG, Field.MODSIG.encode(ev, HashAlgo.SHA256))).isEqualTo("3001");
        EventData buf = EventData.buffer("kexec-cmdline", SHA256, "root=/dev/vda".getBytes(StandardCharsets.US_ASCII)).build();
        assertThat(ascii(Field.BUF, Field.BUF.encode(buf, HashAlgo.SHA256))).isEqualTo("726f6f743d2f6465762f766461");
    }

    @Test
    void asciiLineHasTrailingSpaceForAnEmptyLastFieldAndPadsThePcr() {
        MeasurementEntry e = MeasurementEntry.create(4, Template.IMA_SIG, EventData.file("/a b", SHA256).build(), HashAlgo.SHA256);
        String line = new String(AsciiList.line(e, e.digest(HashAlgo.SHA1)), StandardCharsets.UTF_8);
        assertThat(line).startsWith(" 4 ").endsWith(" /a_b \n");
    }

    @Test
    void imaTemplateRefusesDigestsItsBinaryRecordCannotHold() {
        MeasuredDigest md5 = new MeasuredDigest(HashAlgo.MD5, new byte[16]);
        assertThatThrownBy(() -> MeasurementEntry.create(10, Template.IMA, EventData.file("/f", md5).build(), HashAlgo.MD5))
                .hasMessageContaining("field d must be 20 bytes");
        // Templates with length-prefixed fields keep an MD5 d as it is.
        MeasurementEntry e = MeasurementEntry.create(10, Template.custom("d|n-ng"), EventData.file("/f", md5).build(), HashAlgo.MD5);
        assertThat(e.field(0)).hasSize(16);
    }
}
