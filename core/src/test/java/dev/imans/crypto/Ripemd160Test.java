package dev.imans.crypto;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The test vectors of the RIPEMD-160 paper (Dobbertin, Bosselaers, Preneel), through HashAlgo. */
class Ripemd160Test {
    private static String hex(String message) {
        return Hex.of(HashAlgo.RMD160.newDigest().digest(message.getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    void thePapersVectors() {
        assertThat(hex("")).isEqualTo("9c1185a5c5e9fc54612808977ee8f548b2258d31");
        assertThat(hex("a")).isEqualTo("0bdc9d2d256b3ee9daae347be6f4dc835a467ffe");
        assertThat(hex("abc")).isEqualTo("8eb208f7e05d987a9b044a8e98c6b087f15a0bfc");
        assertThat(hex("message digest")).isEqualTo("5d0689ef49d2fae572b881b123a85ffa21595f36");
        assertThat(hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))
                .isEqualTo("12a053384a9c0c88e405a06c27dcf49ada62eb2b");
        assertThat(hex("1234567890".repeat(8))).isEqualTo("9b752e45573d4b39f4dbd3323cab82bf63326bfb");
    }

    @Test
    void aMillionAsInUnevenPiecesAndAReusedInstance() {
        byte[] a = new byte[1_000_000];
        Arrays.fill(a, (byte) 'a');
        MessageDigest md = HashAlgo.RMD160.newDigest();
        md.update(a, 0, 333_333);
        md.update(a[0]);
        md.update(a, 0, 666_666);
        assertThat(Hex.of(md.digest())).isEqualTo("52783243c1697bdbe16d37f97f68f08325dc1528");
        assertThat(Hex.of(md.digest("abc".getBytes(StandardCharsets.US_ASCII))))
                .isEqualTo("8eb208f7e05d987a9b044a8e98c6b087f15a0bfc");
        assertThat(HashAlgo.RMD160.isSupported()).isTrue();
    }
}
