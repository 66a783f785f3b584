package dev.imans.daemon.enforce;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imans.crypto.HashAlgo;
import java.io.IOException;
import org.junit.jupiter.api.Test;

/** The start's warm-up runs the decision's pieces on a memfd of its own and leaves no descriptor behind. */
class WarmupTest {
    /** The process's descriptors that are the warm-up's memfd. */
    private static long warmupDescriptors() throws IOException {
        return Descriptors.count(link -> link.contains("imans-warmup"));
    }

    @Test
    void itRunsEveryPieceAndLeavesNoDescriptor() throws Exception {
        for (HashAlgo algo : new HashAlgo[] {HashAlgo.SHA256, HashAlgo.SHA1, HashAlgo.SHA512}) {
            Warmup.run(algo, 60);
        }
        assertThat(warmupDescriptors()).isZero();
    }
}
