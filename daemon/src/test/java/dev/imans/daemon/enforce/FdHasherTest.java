package dev.imans.daemon.enforce;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imans.crypto.HashAlgo;
import dev.imans.linux.Fd;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FdHasherTest {
    @TempDir
    Path dir;

    @Test
    void hashesNoMoreThanTheSizeTheVerdictIsFiledUnder() throws Exception {
        byte[] content = new byte[300_000];
        Arrays.fill(content, (byte) 'a');
        Path f = Files.write(dir.resolve("f"), content);
        try (Fd fd = Fd.open(f, Fd.O_RDONLY)) {
            assertThat(FdHasher.forThread().digest(fd.value(), HashAlgo.SHA256, content.length))
                    .isEqualTo(HashAlgo.SHA256.newDigest().digest(content));
            assertThat(FdHasher.forThread().digest(fd.value(), HashAlgo.SHA256, 10))
                    .isEqualTo(HashAlgo.SHA256.newDigest().digest(Arrays.copyOf(content, 10)));
            // A writer grows the file to a sparse terabyte after the event: the hash still stops at 10.
            try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
                raf.setLength(1L << 40);
            }
            assertThat(FdHasher.forThread().digest(fd.value(), HashAlgo.SHA256, 10))
                    .isEqualTo(HashAlgo.SHA256.newDigest().digest(Arrays.copyOf(content, 10)));
            // Shrunk below the size: the digest covers what is there, so it cannot match the label.
            try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
                raf.setLength(5);
            }
            assertThat(FdHasher.forThread().digest(fd.value(), HashAlgo.SHA256, 10))
                    .isEqualTo(HashAlgo.SHA256.newDigest().digest(Arrays.copyOf(content, 5)));
        }
    }
}
