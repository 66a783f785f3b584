package dev.imans.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Known answers from the real kernel (Debian's 6.1.192, see the oracle README): for each of the
 * 104 captured policies, our verdict and our read-back must be the kernel's.
 */
class PolicyOracleTest {
    private static final String VERDICTS = "policy-verdicts.tsv";
    private static final String DETAIL = "policy-verdicts-detail.tsv";

    static Stream<Arguments> verdicts() {
        List<Arguments> out = new ArrayList<>();
        int n = 0;
        for (String[] row : OracleTsv.rows(VERDICTS)) {
            n++;
            out.add(Arguments.of(n, row[0], row[1], row.length > 2 ? row[2] : ""));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "[{0}] {1}")
    @MethodSource("verdicts")
    void verdictAndReadBackAreTheKernels(int row, String policy, String accepted, String readback) {
        String text = OracleTsv.unescape(policy);
        if (accepted.equals("yes")) {
            Policy p = parseOrFail(text);
            assertThat(p.show()).isEqualTo(OracleTsv.unescape(readback) + "\n");
        } else {
            assertThat(accepted).isEqualTo("no");
            assertThatThrownBy(() -> PolicyParser.parse(text)).isInstanceOf(PolicyException.class);
        }
    }

    @Test
    void everyCapturedRowIsUsed() {
        assertThat(OracleTsv.rows(VERDICTS)).hasSize(104);
        assertThat(OracleTsv.rows(DETAIL)).hasSize(104);
    }

    static Stream<Arguments> details() {
        List<Arguments> out = new ArrayList<>();
        int n = 0;
        for (String[] row : OracleTsv.rows(DETAIL)) {
            n++;
            out.add(Arguments.of(n, row[0], row[1], row[3], row[4], row[5]));
        }
        return out.stream();
    }

    private static final Pattern UNKNOWN = Pattern.compile("UNKNOWN=(\\S+)");
    private static final Pattern UNKNOWN_ALGO = Pattern.compile("unknown hash algorithm \"([^\"]*)\"");
    private static final Pattern LSM_UNDEFINED = Pattern.compile("rule for LSM '([^']*)' is undefined");

    /** The detailed capture: both kernels agree, and our reasons name what the kernel's log names. */
    @ParameterizedTest(name = "[{0}] {1}")
    @MethodSource("details")
    void reasonsNameWhatTheKernelLogged(int row, String policy, String debian, String readbackKernel,
                                        String readback, String log) {
        assertThat(readbackKernel).isEqualTo(debian);
        String text = OracleTsv.unescape(policy);
        if (debian.equals("accepted")) {
            assertThat(parseOrFail(text).show()).isEqualTo(OracleTsv.unescape(readback) + "\n");
            return;
        }
        PolicyException e = catchThrowableOfType(PolicyException.class, () -> PolicyParser.parse(text));
        assertThat(e).as("rejected by the kernel: %s", policy).isNotNull();
        String reasons = e.errors().toString();
        Matcher m = UNKNOWN.matcher(log);
        if (m.find()) {
            String token = m.group(1).replace("\\x0d", "\r");
            assertThat(reasons).contains("unknown token " + RuleParser.quote(token));
        }
        m = UNKNOWN_ALGO.matcher(log);
        if (m.find()) {
            assertThat(reasons).contains("unknown hash algorithm \"" + m.group(1) + "\"");
        }
        m = LSM_UNDEFINED.matcher(log);
        if (m.find()) {
            assertThat(reasons).contains("rule for LSM '" + m.group(1) + "' is undefined");
        }
        if (!log.contains("res=0")) {
            assertThat(reasons).contains("the kernel rejects an empty policy");
        }
    }

    private static Policy parseOrFail(String text) {
        try {
            return PolicyParser.parse(text);
        } catch (PolicyException e) {
            throw new AssertionError("the kernel accepted " + text + " but we reject it: " + e.errors(), e);
        }
    }
}
