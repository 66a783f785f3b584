package dev.imans.xattr;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * {@link ImaXattr#decode} takes attacker-controlled bytes (anyone who can set the attribute):
 * nothing may escape it. Plain {@code mvn test} replays the seeds in
 * {@code ImaXattrFuzzTestInputs/decode/}; {@code JAZZER_FUZZ=1} fuzzes.
 */
class ImaXattrFuzzTest {
    @FuzzTest(maxDuration = "30s")
    void decode(byte[] data) {
        ImaXattr x = ImaXattr.decode(data);
        assertThat(x.encode()).isEqualTo(data);
        assertThat(x.describe()).isNotNull();
    }
}
