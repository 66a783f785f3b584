package dev.imans.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.nio.channels.Channels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

class FileDigesterTest {
    @TempDir
    Path dir;

    /** Known answers from coreutils {@code *sum} / {@code openssl dgst} over "hello\n". */
    @ParameterizedTest
    @CsvSource({
        "md5, b1946ac92492d2347c6235b4d2611184",
        "sha1, f572d396fae9206628714fb2ce00f72e94f2258f",
        "sha224, 2d6d67d91d0badcdd06cbbba1fe11538a68a37ec9c2e26457ceff12b",
        "sha256, 5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03",
        "sha384, 1d0f284efe3edea4b9ca3bd514fa134b17eae361ccc7a1eefeff801b9bd6604e01f21f6bf249ef030599f0c218f2ba8c",
        "sha512, e7c22b994c59d9cf2b48e549b1e24666636045930d3da7c1acb299d1c3b7f931f94aae41edda2c2b207a36e10f8bcb8d45223e54878f5b316e7ce3b6bc019629",
        "sha3-256, b314e28493eae9dab57ac4f0c6d887bddbbeb810e900d818395ace558e96516d",
    })
    void knownAnswersFromFileChannelStreamAndChannel(String name, String hex) throws Exception {
        HashAlgo algo = HashAlgo.byName(name).orElseThrow();
        Path f = Files.write(dir.resolve("hello"), Fixtures.hello());
        FileDigester d = new FileDigester();
        byte[] expected = Hex.parse(hex);
        assertThat(d.digest(algo, f)).isEqualTo(expected);
        assertThat(d.digest(algo, new ByteArrayInputStream(Fixtures.hello()))).isEqualTo(expected);
        assertThat(d.digest(algo, Channels.newChannel(new ByteArrayInputStream(Fixtures.hello())))).isEqualTo(expected);
    }

    @ParameterizedTest
    @EnumSource(HashAlgo.class)
    void everyAlgorithmEitherHashesOrNamesItselfWhenUnsupported(HashAlgo algo) throws Exception {
        Path f = Files.write(dir.resolve("f"), Fixtures.hello());
        FileDigester d = new FileDigester();
        if (algo.isSupported()) {
            assertThat(d.digest(algo, f)).hasSize(algo.digestSize());
        } else {
            assertThatThrownBy(() -> d.digest(algo, f))
                    .isInstanceOf(HashAlgo.UnsupportedHashException.class)
                    .hasMessageContaining(algo.kernelName());
        }
    }

    @Test
    void filesLargerThanTheBufferAndReuseGiveFreshDigests() throws Exception {
        byte[] data = new byte[3 * 4096 + 17];
        new Random(42).nextBytes(data);
        Path f = Files.write(dir.resolve("big"), data);
        FileDigester d = new FileDigester(4096);
        byte[] want = MessageDigest.getInstance("SHA-256").digest(data);
        assertThat(d.digest(HashAlgo.SHA256, f)).isEqualTo(want);
        assertThat(d.digest(HashAlgo.SHA256, f)).isEqualTo(want);
        assertThat(d.digest(HashAlgo.SHA256, Files.write(dir.resolve("empty"), new byte[0])))
                .isEqualTo(MessageDigest.getInstance("SHA-256").digest(new byte[0]));
    }
}
