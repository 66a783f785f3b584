package dev.imans.tpm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The marshalled commands against the bytes tpm2-tools 5.4 sent to swtpm for the same operations
 * (traced with {@code TSS2_LOG=tcti+trace}), and the parsers against swtpm's answers.
 */
class Tpm2Test {
    private static final HexFormat HEX = HexFormat.of();

    @Test
    void pcrExtendIsWhatTpm2PcrextendSends() {
        byte[] sha1 = HEX.parseHex("01".repeat(20));
        byte[] sha256 = HEX.parseHex("00".repeat(31) + "02");
        byte[] cmd = Tpm2.pcrExtend(23, List.of(new Tpm2.BankDigest(TpmAlg.SHA1, sha1),
                new Tpm2.BankDigest(TpmAlg.SHA256, sha256)));
        // tpm2_pcrextend 23:sha1=0101..01,sha256=00..02
        assertThat(HEX.formatHex(cmd)).isEqualTo("80020000005700000182" + "00000017" + "00000009"
                + "40000009" + "0000" + "00" + "0000" + "00000002" + "0004" + "01".repeat(20) + "000b"
                + "00".repeat(31) + "02");
    }

    @Test
    void pcrReadAndGetCapabilityAreWhatTpm2PcrreadSends() {
        assertThat(HEX.formatHex(Tpm2.pcrRead(23, List.of(TpmAlg.SHA1, TpmAlg.SHA256))))
                .isEqualTo("80010000001a0000017e00000002000403000080000b03000080");
        assertThat(HEX.formatHex(Tpm2.getPcrAllocation())).isEqualTo("8001000000160000017a000000050000000000000001");
    }

    @Test
    void swtpmAnswersAreParsed() throws Exception {
        Tpm2.checkPcrExtend(HEX.parseHex("80020000001300000000000000000000010000"));
        Map<TpmAlg, byte[]> read = Tpm2.parsePcrRead(HEX.parseHex("80010000005a00000000000000140000"
                + "0002000403000080000b03000080000000020014c3ad7f64b8d976aaf2b3a9c98f7ee5631cde71250020"
                + "9dea5804aca8b476cf8f1efb4fe41abae758ccb238d6656dbc4ca5d40803dc74"), 23);
        assertThat(read.keySet()).containsExactly(TpmAlg.SHA1, TpmAlg.SHA256);
        assertThat(HEX.formatHex(read.get(TpmAlg.SHA1))).isEqualTo("c3ad7f64b8d976aaf2b3a9c98f7ee5631cde7125");
        assertThat(HEX.formatHex(read.get(TpmAlg.SHA256)))
                .isEqualTo("9dea5804aca8b476cf8f1efb4fe41abae758ccb238d6656dbc4ca5d40803dc74");
        byte[] cap = HEX.parseHex("80010000002b0000000000000000050000000400040"
                + "3ffffff000b03ffffff000c03ffffff000d03ffffff");
        assertThat(Tpm2.parsePcrAllocation(cap, 23))
                .containsExactly(TpmAlg.SHA1, TpmAlg.SHA256, TpmAlg.SHA384, TpmAlg.SHA512);
    }

    @Test
    void aBankWithoutThePcrIsNotAllocated() throws Exception {
        // sha1 listed with no PCR selected (swtpm_setup --pcr-banks sha256): only sha256 is extended.
        byte[] cap = HEX.parseHex("80010000001f00000000000000000500000002000403000000000b03ffffff");
        assertThat(Tpm2.parsePcrAllocation(cap, 23)).containsExactly(TpmAlg.SHA256);
    }

    @Test
    void anErrorResponseCarriesItsCode() {
        // TPM_RC_LOCALITY (0x907) as a TPM answers a PCR it may not extend from this locality.
        assertThatThrownBy(() -> Tpm2.checkPcrExtend(HEX.parseHex("80010000000a00000907")))
                .isInstanceOfSatisfying(TpmException.class, e -> assertThat(e.rc()).isEqualTo(0x907));
        assertThatThrownBy(() -> Tpm2.checkPcrExtend(HEX.parseHex("8002000000130000")))
                .hasMessageContaining("truncated");
    }

    @Test
    void transportSpecs() {
        assertThat(TpmTransport.parse("tcp:127.0.0.1:2321").name()).isEqualTo("tcp:127.0.0.1:2321");
        assertThat(TpmTransport.parse("/dev/tpmrm0").name()).isEqualTo("/dev/tpmrm0");
        assertThatThrownBy(() -> TpmTransport.parse("tcp:host")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> TpmTransport.parse("tcp:h:99999")).isInstanceOf(IllegalArgumentException.class);
    }
}
