package dev.imans.xattr;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imans.crypto.HashAlgo;
import dev.imans.crypto.Hex;
import dev.imans.crypto.KeyId;
import java.util.Arrays;
import java.util.Random;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Known answers per type byte; the values in quotes are the ones the kernel captures and evmctl wrote. */
class ImaXattrTest {
    static final String SHA256 = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";
    static final String SHA1 = "f572d396fae9206628714fb2ce00f72e94f2258f";
    static final String MD5 = "b1946ac92492d2347c6235b4d2611184";

    static ImaXattr decode(String hex) {
        return ImaXattr.decode(Hex.parse(hex));
    }

    @Test
    void typeBytesAreTheKernelsAndNothingElseIsAType() {
        assertThat(IntStream.rangeClosed(-1, 256).filter(b -> XattrType.byId(b).isPresent()).boxed().toList())
                .containsExactly(1, 2, 3, 4, 5, 6);
        for (XattrType t : XattrType.values()) {
            assertThat(XattrType.byId(t.id())).contains(t);
        }
        assertThat(XattrType.IMA_XATTR_LAST).isEqualTo(XattrType.IMA_VERITY_DIGSIG.id() + 1);
    }

    @Test
    void digestNgSha256AsEvmctlWritesIt() {
        ImaXattr x = decode("0404" + SHA256);
        assertThat(x).isInstanceOfSatisfying(ImaXattr.DigestNg.class, d -> {
            assertThat(d.algo()).isEqualTo(HashAlgo.SHA256);
            assertThat(Hex.of(d.digest())).isEqualTo(SHA256);
        });
        assertThat(x.type()).contains(XattrType.IMA_XATTR_DIGEST_NG);
        assertThat(Hex.of(ImaXattr.hash(HashAlgo.SHA256, Hex.parse(SHA256)).encode())).isEqualTo("0404" + SHA256);
    }

    @Test
    void digestSha1AndMd5AsEvmctlWritesThem() {
        assertThat(decode("01" + SHA1)).isInstanceOfSatisfying(ImaXattr.Digest.class,
                d -> assertThat(d.algo()).isEqualTo(HashAlgo.SHA1));
        assertThat(decode("01" + MD5)).isInstanceOfSatisfying(ImaXattr.Digest.class, d -> {
            assertThat(d.algo()).isEqualTo(HashAlgo.MD5);
            assertThat(d.legacyPadded()).isFalse();
        });
        assertThat(Hex.of(ImaXattr.hash(HashAlgo.SHA1, Hex.parse(SHA1)).encode())).isEqualTo("01" + SHA1);
        assertThat(Hex.of(ImaXattr.hash(HashAlgo.MD5, Hex.parse(MD5)).encode())).isEqualTo("01" + MD5);
        assertThat(Hex.of(ImaXattr.hash(HashAlgo.SHA224, new byte[28]).encode())).startsWith("0407");
    }

    @Test
    void legacyPaddedMd5KeepsItsPaddingOnReencode() {
        ImaXattr x = decode("01" + MD5 + "00000000");
        assertThat(x).isInstanceOfSatisfying(ImaXattr.Digest.class, d -> {
            assertThat(d.algo()).isEqualTo(HashAlgo.MD5);
            assertThat(d.legacyPadded()).isTrue();
            assertThat(d.digest()).hasSize(16);
        });
        assertThat(Hex.of(x.encode())).isEqualTo("01" + MD5 + "00000000");
        assertThat(ImaXattr.kernelHashAlgo(x.encode(), HashAlgo.SHA256)).isEqualTo(HashAlgo.MD5);
    }

    @Test
    void theSeedsDigestWithoutAlgorithmByteIsExplained() {
        ImaXattr x = decode("04" + SHA256);
        assertThat(x).isInstanceOfSatisfying(ImaXattr.Malformed.class, m -> {
            assertThat(m.cause()).isEqualTo(AuditCause.INVALID_HASH);
            assertThat(m.reason())
                    .contains("unknown algorithm")
                    .contains("0x58 = 88")
                    .contains("raw 32-byte digest")
                    .contains("without the algorithm byte")
                    .contains("invalid-hash")
                    .contains("0x0404<digest>");
        });
        // The kernel falls back to ima_hash and finds only 31 bytes after the algorithm byte.
        assertThat(ImaXattr.kernelHashAlgo(x.encode(), HashAlgo.SHA256)).isEqualTo(HashAlgo.SHA256);
        assertThat(Hex.of(x.encode())).isEqualTo("04" + SHA256);
    }

    @Test
    void aRawDigestWhoseFirstByteIsAKnownAlgorithmIsTooShortForIt() {
        // A raw sha256 digest that happens to start with 0x06 (sha512): read as sha512, 31 of 64 bytes.
        ImaXattr x = decode("04" + "06" + SHA256.substring(2));
        assertThat(x).isInstanceOfSatisfying(ImaXattr.Malformed.class, m ->
                assertThat(m.reason()).contains("too short").contains("sha512").contains("without the algorithm byte"));
    }

    @Test
    void onlyTheTypeByte() {
        assertThat(decode("04")).isInstanceOfSatisfying(ImaXattr.Malformed.class,
                m -> assertThat(m.reason()).startsWith("too short"));
        assertThat(decode("01")).isInstanceOfSatisfying(ImaXattr.Malformed.class,
                m -> assertThat(m.cause()).isEqualTo(AuditCause.INVALID_HASH));
        assertThat(decode("03")).isInstanceOfSatisfying(ImaXattr.Malformed.class,
                m -> assertThat(m.cause()).isEqualTo(AuditCause.INVALID_SIGNATURE));
        assertThat(ImaXattr.decode(new byte[0])).isInstanceOfSatisfying(ImaXattr.Malformed.class,
                m -> assertThat(m.cause()).isEqualTo(AuditCause.MISSING_HASH));
    }

    @Test
    void trailingBytesAfterADigestAreNamed() {
        assertThat(decode("0404" + SHA256 + "ff")).isInstanceOfSatisfying(ImaXattr.Malformed.class,
                m -> assertThat(m.reason()).contains("size mismatch").contains("ignores the 1 extra"));
        assertThat(decode("01" + SHA256)).isInstanceOfSatisfying(ImaXattr.Malformed.class,
                m -> assertThat(m.reason()).contains("neither md5").contains("0x0404<digest>"));
    }

    @Test
    void signatureV2HeaderIsBigEndian() {
        byte[] sig = {9, 8, 7};
        ImaXattr x = ImaXattr.SignatureV2.of(HashAlgo.SHA256, KeyId.parse("85c5e0c8"), sig);
        assertThat(Hex.of(x.encode())).isEqualTo("03020485c5e0c80003090807");
        assertThat(decode("03020485c5e0c80003090807")).isInstanceOfSatisfying(ImaXattr.SignatureV2.class, s -> {
            assertThat(s.algo()).isEqualTo(HashAlgo.SHA256);
            assertThat(s.keyId().hex()).isEqualTo("85c5e0c8");
            assertThat(s.signature()).containsExactly(9, 8, 7);
        });
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "0302", "030204", "030204aabbccdd0001", // no signature byte
        "030204aabbccdd000201", // sig_size 2, 1 byte
        "030204aabbccdd00010102", // sig_size 1, 2 bytes
        "030263aabbccdd000101", // algo 99
    })
    void badSignatureHeadersAreInvalidSignature(String hex) {
        assertThat(decode(hex)).isInstanceOfSatisfying(ImaXattr.Malformed.class,
                m -> assertThat(m.cause()).isEqualTo(AuditCause.INVALID_SIGNATURE));
    }

    @Test
    void signatureVersions() {
        assertThat(decode("030304aabbccdd000101")).isInstanceOfSatisfying(ImaXattr.Malformed.class,
                m -> assertThat(m.cause()).isEqualTo(AuditCause.INVALID_SIGNATURE_VERSION));
        assertThat(decode("030004aabbccdd000101")).isInstanceOfSatisfying(ImaXattr.Malformed.class,
                m -> assertThat(m.cause()).isEqualTo(AuditCause.UNKNOWN));
        assertThat(decode("030104aabbccdd000101")).isInstanceOfSatisfying(ImaXattr.Malformed.class,
                m -> assertThat(m.reason()).contains("version 1"));
        assertThat(decode("060304aabbccdd000101")).isInstanceOf(ImaXattr.VeritySignature.class);
        assertThat(decode("060204aabbccdd000101")).isInstanceOfSatisfying(ImaXattr.Malformed.class,
                m -> assertThat(m.cause()).isEqualTo(AuditCause.INVALID_SIGNATURE_VERSION));
        assertThat(decode("050204aabbccdd000101")).isInstanceOf(ImaXattr.PortableSignature.class);
    }

    @Test
    void hmacAndUnknownTypes() {
        assertThat(decode("02" + SHA1)).isInstanceOf(ImaXattr.EvmHmac.class);
        assertThat(decode("02" + SHA256)).isInstanceOfSatisfying(ImaXattr.Malformed.class,
                m -> assertThat(m.cause()).isEqualTo(AuditCause.UNKNOWN_IMA_DATA));
        for (int t : new int[] {0x00, 0x07, 0x42, 0xff}) {
            ImaXattr x = ImaXattr.decode(new byte[] {(byte) t, 1, 2});
            assertThat(x).isInstanceOf(ImaXattr.Unknown.class);
            assertThat(x.describe()).contains(String.format("0x%02x", t)).contains("unknown-ima-data");
        }
    }

    @Test
    void decodeDoesNotKeepTheCallersArray() {
        byte[] raw = Hex.parse("0404" + SHA256);
        ImaXattr x = ImaXattr.decode(raw);
        raw[2] = 0;
        assertThat(Hex.of(x.encode())).isEqualTo("0404" + SHA256);
    }

    static Stream<Long> seeds() {
        return IntStream.range(0, 200).mapToObj(i -> 0x1a2b3c4dL * (i + 1));
    }

    /** Random well-formed values of every type survive encode → decode → encode unchanged and keep their fields. */
    @ParameterizedTest
    @MethodSource("seeds")
    void randomRoundTrips(long seed) {
        Random rnd = new Random(seed);
        HashAlgo[] algos = HashAlgo.values();
        HashAlgo algo = algos[rnd.nextInt(algos.length)];
        byte[] digest = new byte[algo.digestSize()];
        rnd.nextBytes(digest);
        byte[] sig = new byte[1 + rnd.nextInt(600)];
        rnd.nextBytes(sig);
        KeyId id = new KeyId(rnd.nextInt());
        ImaXattr x = switch (rnd.nextInt(5)) {
            case 0 -> algo.id() <= HashAlgo.SHA1.id() && algo != HashAlgo.MD4
                    ? ImaXattr.hash(algo, digest) : new ImaXattr.DigestNg(algo, digest);
            case 1 -> ImaXattr.SignatureV2.of(algo, id, sig);
            case 2 -> new ImaXattr.PortableSignature(algo, id, sig);
            case 3 -> new ImaXattr.VeritySignature(algo, id, sig);
            default -> new ImaXattr.EvmHmac(Arrays.copyOf(sig, 20));
        };
        if (x instanceof ImaXattr.Digest d && d.algo() == HashAlgo.SHA1 && digest[16] == 0 && digest[17] == 0
                && digest[18] == 0 && digest[19] == 0) {
            return; // a sha1 digest ending in four zeros reads as padded md5, in the kernel too
        }
        byte[] bytes = x.encode();
        ImaXattr back = ImaXattr.decode(bytes);
        assertThat(back.getClass()).isEqualTo(x.getClass());
        assertThat(back.encode()).isEqualTo(bytes);
        assertThat(ImaXattr.sameValue(back, x)).isTrue();
        if (x instanceof ImaXattr.DigestNg d) {
            assertThat(ImaXattr.kernelHashAlgo(bytes, HashAlgo.SHA1)).isEqualTo(d.algo());
        }
    }

    /** Random byte strings: decode never throws and always gives back the exact bytes. */
    @ParameterizedTest
    @MethodSource("seeds")
    void randomBytesDecodeToTheirOwnBytes(long seed) {
        Random rnd = new Random(seed);
        byte[] raw = new byte[rnd.nextInt(80)];
        rnd.nextBytes(raw);
        if (raw.length > 0 && rnd.nextBoolean()) {
            raw[0] = (byte) (1 + rnd.nextInt(6));
        }
        ImaXattr x = ImaXattr.decode(raw);
        assertThat(x.encode()).isEqualTo(raw);
        assertThat(x.describe()).isNotBlank();
    }
}
