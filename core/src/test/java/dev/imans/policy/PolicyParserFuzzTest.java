package dev.imans.policy;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Any text either parses or is refused with a {@link PolicyException}; nothing else is ever
 * thrown. An accepted policy's read-back parses to itself, except the two read-backs the kernel
 * itself cannot read again (verity appraise rules, ids from 2^31 on).
 *
 * <p>Plain {@code mvn test} runs the seeds under {@code PolicyParserFuzzTestInputs/parse/};
 * {@code JAZZER_FUZZ=1} fuzzes for real.
 */
class PolicyParserFuzzTest {
    @FuzzTest(maxDuration = "30s")
    void parse(FuzzedDataProvider data) {
        boolean recent = data.consumeBoolean();
        KernelProfile profile = recent ? KernelProfile.recent() : KernelProfile.debian61();
        String text = data.consumeRemainingAsString();
        Policy policy;
        try {
            policy = PolicyParser.parse(text, profile);
        } catch (PolicyException e) {
            if (e.errors().isEmpty()) {
                throw new AssertionError("a PolicyException without errors");
            }
            return;
        }
        String shown = policy.show();
        policy.warnings();
        if (shown.contains("appraise_type=sigv3 digest_type=verity") || shown.matches("(?s).*[ug]id[=<>]-.*")
                || shown.matches("(?s).*(fowner|fgroup)[=<>]-.*")) {
            return;
        }
        try {
            String again = PolicyParser.parse(shown, profile).show();
            if (!again.equals(shown)) {
                throw new AssertionError("read-back not stable:\n" + shown + "\n" + again);
            }
        } catch (PolicyException e) {
            throw new AssertionError("read-back does not parse:\n" + shown + "\n" + e.errors(), e);
        }
    }
}
