package dev.imans.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Known answers from the real kernel's policy verdicts (oracle captures,
 * policy-verdicts-detail.tsv: policy, verdict, errno, read-back verdict, read-back, kernel log).
 * The capture joined log lines with {@code " | "} after turning every {@code |} into {@code " | "},
 * so rows whose policy holds a {@code |} (template and keyring lists) cannot be split back
 * exactly and are left out; the capture also replaced pids by {@code N} and stamps by
 * {@code audit(...)}.
 */
class PolicyVerdictRecordsTest {
    private static final AuditEncoder CURRENT = AuditEncoder.of(AuditFormat.CURRENT);

    record Row(String policy, boolean accepted, List<String> log) {
        /** A policy of only a comment or nothing: the kernel parses no rule and logs none. */
        boolean hasRules() {
            return !policy.equals("<empty>") && Arrays.stream(policy.split("\\\\n"))
                    .map(String::strip).anyMatch(l -> !l.isEmpty() && !l.startsWith("#"));
        }

        @Override
        public String toString() {
            return policy;
        }
    }

    static List<Row> rows() {
        List<Row> rows = new ArrayList<>();
        for (String line : Fixtures.lines("policy-verdicts-detail.tsv").stream().skip(1).toList()) {
            String[] cols = line.split("\t", -1);
            if (cols[0].contains("|")) {
                continue;
            }
            rows.add(new Row(cols[0], cols[1].equals("accepted"), Arrays.asList(cols[5].split(" \\| "))));
        }
        return rows;
    }

    @Test
    void fixtureIsThere() {
        assertThat(rows()).hasSizeGreaterThan(90);
    }

    /** Each rule record: read it, write it again, the same text. */
    @ParameterizedTest
    @MethodSource("rows")
    void ruleRecordsRoundTrip(Row row) {
        List<String> ruleLines = row.log().stream().filter(l -> l.startsWith("audit: type=1807 ")).toList();
        assertThat(ruleLines.isEmpty()).isEqualTo(!row.hasRules());
        if (ruleLines.isEmpty()) {
            return;
        }
        for (String captured : ruleLines) {
            ParsedRecord parsed = AuditRecordParser.parseKmsg(captured);
            assertThat(parsed.stamp()).isEmpty();
            RuleRecord r = (RuleRecord) parsed.toRecord();
            assertThat(KmsgText.escape(CURRENT.body(r))).isEqualTo(captured.substring(captured.indexOf("): ") + 3));
        }
        RuleRecord last = (RuleRecord) AuditRecordParser.parseKmsg(ruleLines.getLast()).toRecord();
        if (!row.accepted()) {
            assertThat(row.log().stream().filter(l -> l.startsWith("audit: type=1807 "))
                    .map(l -> ((RuleRecord) AuditRecordParser.parseKmsg(l).toRecord()).res())).contains(false);
        } else {
            assertThat(last.res()).isTrue();
        }
    }

    /**
     * An accepted one-line rule is logged token by token: the action as {@code action=}, every
     * condition as written. Built from the policy text alone, the record must equal the kernel's.
     */
    @ParameterizedTest
    @MethodSource("rows")
    void acceptedRuleRecordsFollowFromThePolicyText(Row row) {
        String policy = row.policy();
        if (!row.accepted() || policy.contains("\\") || policy.isBlank() || policy.contains("permit_directio")
                || policy.startsWith("#") || policy.equals("<empty>")) {
            return;
        }
        List<String> tokens = new ArrayList<>();
        for (String word : policy.trim().split("[ \t]+")) {
            // The action is the one word without an operator, wherever it stands.
            tokens.add(word.matches("[a-z_]+") ? "action=" + word : word);
        }
        RuleRecord expected = RuleRecord.of(true, tokens.toArray(String[]::new));
        String captured = row.log().stream().filter(l -> l.startsWith("audit: type=1807 ")).findFirst().orElseThrow();
        assertThat("audit: type=1807 audit(...): " + CURRENT.body(expected)).isEqualTo(captured);
    }

    /** The policy status records, pid restored to a number. */
    @ParameterizedTest
    @MethodSource("rows")
    void statusRecords(Row row) {
        List<StatusRecord> status = new ArrayList<>();
        for (String captured : row.log()) {
            if (!captured.startsWith("audit: type=1802 ")) {
                continue;
            }
            String line = captured.replace(" pid=N ", " pid=4242 ");
            StatusRecord s = (StatusRecord) AuditRecordParser.parseRecord(line);
            assertThat(CURRENT.body(s)).isEqualTo(line.substring(line.indexOf("): ") + 3));
            status.add(s);
        }
        Subject helper = Subject.of(4242, 0, Subject.UNSET, Subject.UNSET, "imahelper").withSubj("unconfined");
        if (row.accepted()) {
            assertThat(status).containsExactly(StatusRecord.policyUpdate(helper, true));
        } else if (row.hasRules()) {
            assertThat(status).contains(StatusRecord.invalidPolicy(helper))
                    .endsWith(StatusRecord.policyUpdate(helper, false));
        } else {
            assertThat(status).containsExactly(StatusRecord.policyUpdate(helper, false));
        }
    }

    @Test
    void carriageReturnComesBackFromKmsgEscaping() {
        String captured = "audit: type=1807 audit(...): action=measure func=FILE_CHECK\\x0d res=0";
        RuleRecord r = (RuleRecord) AuditRecordParser.parseKmsg(captured).toRecord();
        assertThat(r.tokens()).extracting(RuleRecord.Token::value).containsExactly("measure", "FILE_CHECK\r");
        assertThat(r.res()).isFalse();
        assertThat(Optional.of(CURRENT.body(r))).contains("action=measure func=FILE_CHECK\r res=0");
    }
}
