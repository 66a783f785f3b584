package dev.imans.ns;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class PolicySessionTest {
    /** The seed's single printf: two rules, no trailing newline. */
    static final String SEED = "appraise fsmagic=0x01021994 fowner=71452\nappraise func=MODULE_CHECK";
    static final String SEED_SHOWN = "appraise fsmagic=0x1021994 fowner=71452 \nappraise func=MODULE_CHECK \n";

    private final PolicySlot slot = new PolicySlot(dev.imans.policy.KernelProfile.defaults());

    private PolicySession open() {
        return slot.openSession().orElseThrow();
    }

    /** Writes like libc: again and again until every byte is consumed or an error comes back. */
    static Optional<SessionError> writeAll(PolicySession s, String text) {
        byte[] data = text.getBytes(UTF_8);
        int off = 0;
        while (off < data.length) {
            PolicySession.Written w = s.write(java.util.Arrays.copyOfRange(data, off, data.length));
            if (w.error().isPresent()) {
                return w.error();
            }
            off += w.consumed();
        }
        return Optional.empty();
    }

    @Test
    void seedPrintfIsTwoRulesAndReadsBackAsTheKernelPrintsThem() {
        PolicySession s = open();
        assertThat(writeAll(s, SEED)).isEmpty();
        PolicySession.Outcome o = slot.close(s);
        assertThat(o).isInstanceOf(PolicySession.Outcome.Accepted.class);
        assertThat(slot.committed().orElseThrow().show()).isEqualTo(SEED_SHOWN);
        assertThat(slot.ruleCount()).isEqualTo(2);
        assertThat(slot.committedLines())
                .containsExactly("appraise fsmagic=0x01021994 fowner=71452", "appraise func=MODULE_CHECK");
    }

    @Test
    void aWriteConsumesUpToItsLastNewlineAndTheRestComesBackAsTheLastLine() {
        PolicySession s = open();
        PolicySession.Written first = s.write(SEED.getBytes(UTF_8));
        assertThat(first.error()).isEmpty();
        assertThat(first.consumed()).isEqualTo(SEED.indexOf('\n') + 1);
        PolicySession.Written rest = s.write("appraise func=MODULE_CHECK".getBytes(UTF_8));
        assertThat(rest).isEqualTo(new PolicySession.Written(26, Optional.empty()));
        slot.close(s);
        assertThat(slot.committed().orElseThrow().show()).isEqualTo(SEED_SHOWN);
    }

    @Test
    void aLineSplitAcrossWritesIsTwoLinesAsInTheKernel() {
        PolicySession s = open();
        assertThat(s.write("appraise func=MOD".getBytes(UTF_8)).error()).isPresent();
        assertThat(slot.close(s)).isInstanceOf(PolicySession.Outcome.Rejected.class);
    }

    @Test
    void theWriteCarryingABadLineFailsWithLineAndColumn() {
        PolicySession s = open();
        assertThat(writeAll(s, "measure func=BPRM_CHECK\n")).isEmpty();
        Optional<SessionError> e = writeAll(s, "appraise bogus=1\nappraise func=FILE_CHECK\n");
        assertThat(e).isPresent();
        assertThat(e.get().line()).isEqualTo(2);
        assertThat(e.get().column()).isEqualTo(10);
        assertThat(e.get().toString()).startsWith("line 2, column 10: ");
        // Later writes keep failing; the close rejects the whole session.
        assertThat(writeAll(s, "measure func=FILE_CHECK\n")).isPresent();
        assertThat(s.flush()).isPresent();
        assertThat(slot.close(s)).isInstanceOf(PolicySession.Outcome.Rejected.class);
        assertThat(slot.committed()).isEmpty();
    }

    @Test
    void aBadLastLineWithoutNewlineFailsItsWrite() {
        PolicySession s = open();
        assertThat(writeAll(s, "measure func=BPRM_CHECK\nmeasure func=NO_SUCH")).isPresent();
        assertThat(s.flush()).isPresent();
        assertThat(slot.close(s)).isInstanceOf(PolicySession.Outcome.Rejected.class);
    }

    @Test
    void anEmptySessionOrOneWithOnlyCommentsFails() {
        PolicySession s = open();
        assertThat(slot.close(s)).isEqualTo(new PolicySession.Outcome.Rejected(
                new SessionError(0, 0, "no rules in policy update")));
        PolicySession c = open();
        assertThat(writeAll(c, "# nothing\n\n   \n")).isEmpty();
        assertThat(slot.close(c)).isInstanceOf(PolicySession.Outcome.Rejected.class);
    }

    @Test
    void acceptedSessionsAppendAndARejectedOneLeavesThePolicyAsItWas() {
        PolicySession a = open();
        writeAll(a, "measure func=BPRM_CHECK\n");
        slot.close(a);
        PolicySession bad = open();
        writeAll(bad, "appraise func=FILE_CHECK\nnonsense\n");
        slot.close(bad);
        PolicySession b = open();
        writeAll(b, "appraise func=FILE_CHECK");
        slot.close(b);
        assertThat(slot.committed().orElseThrow().show())
                .isEqualTo("measure func=BPRM_CHECK \nappraise func=FILE_CHECK \n");
    }

    @Test
    void oneWriterAtATime() {
        PolicySession s = open();
        assertThat(slot.busy()).isTrue();
        assertThat(slot.openSession()).isEmpty();
        slot.close(s);
        assertThat(slot.openSession()).isPresent();
    }
}
