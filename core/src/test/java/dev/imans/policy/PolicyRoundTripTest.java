package dev.imans.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Seeded random valid policies: each is accepted, and its read-back parses to the same read-back
 * (parse -> show -> parse -> show is stable). The two kernel read-backs that are not valid policies
 * (verity appraise rules, ids from 2^31 on) are not generated and are pinned separately.
 */
class PolicyRoundTripTest {
    static LongStream seeds() {
        return LongStream.range(0, 400);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void readBackIsStable(long seed) {
        roundTrip(new RandomRules(seed, KernelProfile.debian61()).policy(), KernelProfile.debian61());
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void readBackIsStableOnRecentKernels(long seed) {
        roundTrip(new RandomRules(seed ^ 0x5eedL, KernelProfile.recent()).policy(), KernelProfile.recent());
    }

    private static void roundTrip(String text, KernelProfile profile) {
        Policy first;
        try {
            first = PolicyParser.parse(text, profile);
        } catch (PolicyException e) {
            throw new AssertionError("generated a policy we reject:\n" + text + "\n" + e.errors(), e);
        }
        String shown = first.show();
        try {
            Policy second = PolicyParser.parse(shown, profile);
            assertThat(second.show()).isEqualTo(shown);
            assertThat(second.rules()).hasSameSizeAs(first.rules());
        } catch (PolicyException e) {
            throw new AssertionError("read-back of\n" + text + "\ndoes not parse:\n" + shown + e.errors(), e);
        }
    }

    @Test
    void largeIdsReadBackNegativeAndDoNotParseAgainAsOnTheKernel() throws PolicyException {
        String shown = PolicyParser.parse("measure uid=4294967294 fowner>2147483648").show();
        assertThat(shown).isEqualTo("measure uid=-2 fowner>-2147483648 \n");
        assertThatThrownBy(() -> PolicyParser.parse(shown)).isInstanceOf(PolicyException.class)
                .hasMessageContaining("invalid uid \"-2\"");
    }

    @Test
    void verityAppraiseReadBackIsNotAValidPolicyAsOnTheKernel() throws PolicyException {
        String shown = PolicyParser.parse("appraise func=BPRM_CHECK digest_type=verity appraise_type=sigv3").show();
        assertThat(shown).isEqualTo("appraise func=BPRM_CHECK appraise_type=sigv3 digest_type=verity \n");
        assertThatThrownBy(() -> PolicyParser.parse(shown)).isInstanceOf(PolicyException.class)
                .hasMessageContaining("appraise_type=sigv3 must follow digest_type=verity");
    }
}
