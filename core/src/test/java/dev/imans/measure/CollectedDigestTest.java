package dev.imans.measure;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imans.crypto.HashAlgo;
import dev.imans.policy.KernelProfile;
import java.util.HexFormat;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Known answers from Linux 6.1's sources (Debian linux-source-6.1 6.1.192): process_measurement
 * (ima_main.c) reads security.ima when appraising or when the template is not "ima";
 * ima_get_hash_algo (ima_appraise.c) maps the value to an algorithm; ima_eventdigest_init
 * (ima_template_lib.c) re-hashes for the 20-byte d field. enum hash_algo numbers from
 * include/uapi/linux/hash_info.h.
 */
class CollectedDigestTest {
    private static final Set<HashAlgo> LINUX_61 = KernelProfile.debian61().hashAlgoNames();

    private static HashAlgo ng(String hex) {
        return CollectedDigest.algo(Template.IMA_NG, false, HexFormat.of().parseHex(hex), HashAlgo.SHA256, LINUX_61);
    }

    @Test
    void theValuesAlgorithmByteNamesTheDigestWhetherOrNotTheValueIsRight() {
        // IMA_XATTR_DIGEST_NG: data[0] is the algorithm; 6 = HASH_ALGO_SHA512, 2 = HASH_ALGO_SHA1.
        assertThat(ng("0406" + "00".repeat(64))).isEqualTo(HashAlgo.SHA512);
        assertThat(ng("0402" + "11".repeat(20))).isEqualTo(HashAlgo.SHA1);
        // Only the byte counts: a short or wrong digest still selects its algorithm.
        assertThat(ng("0405")).isEqualTo(HashAlgo.SHA384);
        // IMA_XATTR_DIGEST: by length, 21 bytes with four zero bytes at data[16..19] is md5, else sha1; 17 is md5.
        assertThat(ng("01" + "22".repeat(20))).isEqualTo(HashAlgo.SHA1);
        assertThat(ng("01" + "22".repeat(16) + "00000000")).isEqualTo(HashAlgo.MD5);
        assertThat(ng("01" + "22".repeat(16))).isEqualTo(HashAlgo.MD5);
        assertThat(ng("01" + "22".repeat(32))).isEqualTo(HashAlgo.SHA256);
        // EVM_IMA_XATTR_DIGSIG: version 2 and more than the 9-byte header: the header's hash_algo (5 = sha384).
        assertThat(ng("030205aabbccdd0002beef")).isEqualTo(HashAlgo.SHA384);
        assertThat(ng("030205aabbccdd0000")).as("header only").isEqualTo(HashAlgo.SHA256);
        assertThat(ng("030105aabbccdd0002beef")).as("version 1").isEqualTo(HashAlgo.SHA256);
        // IMA_VERITY_DIGSIG wants version 3.
        assertThat(ng("060306aabbccdd0002beef")).isEqualTo(HashAlgo.SHA512);
        assertThat(ng("060206aabbccdd0002beef")).isEqualTo(HashAlgo.SHA256);
    }

    @Test
    void bytesPastTheKernelsLastAlgorithmAndOtherTypesFallBackToImaHash() {
        // 6.1's HASH_ALGO__LAST is 20 (streebog512 = 19): sha3-256 (20) is no algorithm there.
        assertThat(ng("0414" + "00".repeat(32))).isEqualTo(HashAlgo.SHA256);
        assertThat(ng("0413" + "00".repeat(64))).isEqualTo(HashAlgo.STREEBOG_512);
        assertThat(ng("04ff" + "00".repeat(32))).isEqualTo(HashAlgo.SHA256);
        assertThat(ng("030214aabbccdd0002beef")).isEqualTo(HashAlgo.SHA256);
        // xattr_len < 2, EVM types and unknown types.
        assertThat(ng("04")).isEqualTo(HashAlgo.SHA256);
        assertThat(ng("050204aabbccdd0002beef")).isEqualTo(HashAlgo.SHA256);
        assertThat(ng("07" + "00".repeat(32))).isEqualTo(HashAlgo.SHA256);
        assertThat(CollectedDigest.algo(Template.IMA_SIG, false, null, HashAlgo.SHA512, LINUX_61))
                .isEqualTo(HashAlgo.SHA512);
    }

    @Test
    void theImaTemplateReadsTheValueOnlyWhenAppraising() {
        byte[] sha1Label = HexFormat.of().parseHex("01" + "22".repeat(20));
        assertThat(CollectedDigest.readsImaXattr(Template.IMA, false)).isFalse();
        assertThat(CollectedDigest.algo(Template.IMA, false, sha1Label, HashAlgo.SHA256, LINUX_61))
                .isEqualTo(HashAlgo.SHA256);
        assertThat(CollectedDigest.algo(Template.IMA, true, sha1Label, HashAlgo.SHA256, LINUX_61))
                .isEqualTo(HashAlgo.SHA1);
        // A custom format is named by its format string, never "ima": it always reads the value; "d|n" is
        // the ima template's own format and finds it (lookup_template_desc in ima_template.c).
        assertThat(CollectedDigest.readsImaXattr(Template.lookup("d|n-ng"), false)).isTrue();
        assertThat(CollectedDigest.readsImaXattr(Template.lookup("d|n"), false)).isFalse();
        assertThat(CollectedDigest.readsImaXattr(Template.EVM_SIG, false)).isTrue();
    }

    @Test
    void theDFieldKeepsSha1AndMd5AndRehashesOthersWithImaHashOrSha1() {
        assertThat(CollectedDigest.dFieldAlgo(HashAlgo.SHA1, HashAlgo.SHA256)).isEqualTo(HashAlgo.SHA1);
        assertThat(CollectedDigest.dFieldAlgo(HashAlgo.MD5, HashAlgo.SHA256)).isEqualTo(HashAlgo.MD5);
        assertThat(CollectedDigest.dFieldAlgo(HashAlgo.SHA512, HashAlgo.SHA256)).isEqualTo(HashAlgo.SHA1);
        assertThat(CollectedDigest.dFieldAlgo(HashAlgo.SHA512, HashAlgo.MD5)).isEqualTo(HashAlgo.MD5);
        assertThat(CollectedDigest.dFieldAlgo(HashAlgo.SHA256, HashAlgo.SHA1)).isEqualTo(HashAlgo.SHA1);
    }
}
