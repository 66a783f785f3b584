package dev.imans.ns;

import dev.imans.policy.KernelProfile;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.imans.policy.PolicyException;
import dev.imans.policy.PolicyParser;
import java.util.Arrays;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PolicySessionTest {
    /** The seed's single printf: two rules, no trailing newline. */
    static final String SEED = "appraise fsmagic=0x01021994 fowner=71452\nappraise func=MODULE_CHECK";
    static final String SEED_SHOWN = "appraise fsmagic=0x1021994 fowner=71452 \nappraise func=MODULE_CHECK \n";

    private final PolicySlot slot = new PolicySlot(dev.imans.policy.KernelProfile.defaults());

    private PolicySession open() {
        return slot.openSession().orElseThrow();
    }

    /** Writes {@code text} in one write; the error of the session, if any. */
    static Optional<SessionError> writeAll(PolicySession s, String text) {
        return s.write(text.getBytes(UTF_8));
    }

    /** Writes {@code data} in pieces of {@code size} bytes, stopping at the first error. */
    static Optional<SessionError> writeInPieces(PolicySession s, byte[] data, int size) {
        for (int off = 0; off < data.length; off += size) {
            Optional<SessionError> e = s.write(data, off, Math.min(size, data.length - off));
            if (e.isPresent()) {
                return e;
            }
        }
        return Optional.empty();
    }

    /** A policy of {@code n} distinct rules, one per line, newline-terminated. */
    static String rules(int n) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < n; i++) {
            b.append("appraise fsmagic=0x01021994 fowner=").append(i).append('\n');
        }
        return b.toString();
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
    void anUnterminatedLastLineIsCarriedToTheNextWriteAndParsedWhole() {
        PolicySession s = open();
        // "fowner=1" alone would be a valid rule of its own: it must not be taken as one.
        assertThat(writeAll(s, "measure func=BPRM_CHECK\nappraise fsmagic=0x01021994 fowner=1")).isEmpty();
        assertThat(s.pending()).isEqualTo(1);
        assertThat(writeAll(s, "2\nappraise func=MOD")).isEmpty();
        assertThat(writeAll(s, "ULE_CHECK")).isEmpty();
        assertThat(slot.close(s)).isInstanceOf(PolicySession.Outcome.Accepted.class);
        assertThat(slot.committed().orElseThrow().show()).isEqualTo(
                "measure func=BPRM_CHECK \nappraise fsmagic=0x1021994 fowner=12 \nappraise func=MODULE_CHECK \n");
    }

    @Test
    void everySplitOfAPolicyIntoTwoWritesGivesTheSamePolicyAsOneWrite() throws PolicyException {
        String text = "measure func=BPRM_CHECK mask=MAY_EXEC\n# a comment\n\n  appraise fowner=71452 fsmagic=0x01021994\n"
                + "dont_measure fsmagic=0x9fa0\naudit func=FILE_CHECK uid=0";
        String expected = PolicyParser.parse(text).show();
        byte[] data = text.getBytes(UTF_8);
        for (int cut = 0; cut <= data.length; cut++) {
            PolicySlot own = new PolicySlot(KernelProfile.defaults());
            PolicySession s = own.openSession().orElseThrow();
            assertThat(s.write(data, 0, cut)).as("cut at %d", cut).isEmpty();
            assertThat(s.write(data, cut, data.length - cut)).as("cut at %d", cut).isEmpty();
            assertThat(own.close(s)).isInstanceOf(PolicySession.Outcome.Accepted.class);
            assertThat(own.committed().orElseThrow().show()).as("cut at %d", cut).isEqualTo(expected);
        }
    }

    @Test
    void randomPiecesAndOneByteWritesGiveTheSamePolicy() throws PolicyException {
        String text = rules(2_000);
        String expected = PolicyParser.parse(text).show();
        Random random = new Random(7);
        byte[] data = text.getBytes(UTF_8);
        for (int size : new int[] {1, 2, 3, 7, 4096, 131072, 1 + random.nextInt(500), 1 + random.nextInt(5000)}) {
            PolicySlot own = new PolicySlot(KernelProfile.defaults());
            PolicySession s = own.openSession().orElseThrow();
            assertThat(writeInPieces(s, data, size)).isEmpty();
            assertThat(own.close(s)).isInstanceOf(PolicySession.Outcome.Accepted.class);
            assertThat(own.committed().orElseThrow().show()).as("pieces of %d", size).isEqualTo(expected);
        }
    }

    @Test
    void aMultibyteCharacterSplitAcrossWritesIsDecodedWhole() {
        byte[] data = "measure func=BPRM_CHECK\naudit fowner=1 obj_user=\u00fcn\u00efcode_u\n".getBytes(UTF_8);
        int u = "measure func=BPRM_CHECK\naudit fowner=1 obj_user=".length() + 1;
        PolicySession s = open();
        Optional<SessionError> split = s.write(data, 0, u).or(() -> s.write(data, u, data.length - u));
        PolicySlot wholeSlot = new PolicySlot(KernelProfile.defaults());
        PolicySession whole = wholeSlot.openSession().orElseThrow();
        assertThat(split).isEqualTo(whole.write(data));
        assertThat(slot.close(s).getClass()).isEqualTo(wholeSlot.close(whole).getClass());
        assertThat(slot.committedLines()).isEqualTo(wholeSlot.committedLines());
    }

    @Test
    void theWriteCompletingABadLineFailsWithItsSessionLineAndColumn() {
        PolicySession s = open();
        assertThat(writeAll(s, "measure func=BPRM_CHECK\n")).isEmpty();
        assertThat(writeAll(s, "appraise bo")).isEmpty();
        Optional<SessionError> e = writeAll(s, "gus=1\nappraise func=FILE_CHECK\n");
        assertThat(e).isPresent();
        assertThat(e.get().line()).isEqualTo(2);
        assertThat(e.get().column()).isEqualTo(10);
        assertThat(e.get().toString()).startsWith("line 2, column 10: ");
        // Later writes keep failing; the close rejects the whole session.
        assertThat(writeAll(s, "measure func=FILE_CHECK\n")).isEqualTo(e);
        assertThat(slot.commit(s)).isEqualTo(new PolicySession.Outcome.Rejected(e.get(), true));
        assertThat(slot.close(s)).isEqualTo(new PolicySession.Outcome.Rejected(e.get(), false));
        assertThat(slot.committed()).isEmpty();
    }

    @Test
    void aBadUnterminatedLastLineFailsAtTheFlush() {
        PolicySession s = open();
        assertThat(writeAll(s, "measure func=BPRM_CHECK\nmeasure func=NO_SUCH")).isEmpty();
        assertThat(s.endLine()).hasValueSatisfying(e -> assertThat(e.line()).isEqualTo(2));
        assertThat(slot.close(s)).isInstanceOf(PolicySession.Outcome.Rejected.class);
        assertThat(slot.committed()).isEmpty();
    }

    @Test
    void aBadLineDeepInALargePolicyIsNamedByItsLineAndNothingIsCommitted() {
        PolicySession first = open();
        writeAll(first, "measure func=BPRM_CHECK\n");
        slot.close(first);
        String good = rules(100_000);
        int badLine = 50_000;
        int at = 0;
        for (int i = 1; i < badLine; i++) {
            at = good.indexOf('\n', at) + 1;
        }
        String text = good.substring(0, at) + "appraise fowner=1 nonsense=2\n" + good.substring(at);
        PolicySession s = open();
        Optional<SessionError> e = writeInPieces(s, text.getBytes(UTF_8), 131072);
        assertThat(e).hasValueSatisfying(err -> {
            assertThat(err.line()).isEqualTo(badLine);
            assertThat(err.column()).isEqualTo(19);
        });
        assertThat(slot.close(s)).isInstanceOf(PolicySession.Outcome.Rejected.class);
        assertThat(slot.committed().orElseThrow().show()).isEqualTo("measure func=BPRM_CHECK \n");
    }

    @Test
    void aHundredThousandRulesLoadQuickly() {
        byte[] data = rules(100_000).getBytes(UTF_8);
        long start = System.nanoTime();
        PolicySession s = open();
        assertThat(writeInPieces(s, data, 131072)).isEmpty();
        assertThat(slot.close(s)).isInstanceOf(PolicySession.Outcome.Accepted.class);
        long ms = (System.nanoTime() - start) / 1_000_000;
        System.out.println("PolicySessionTest: 100000 rules (" + data.length + " bytes) parsed and committed in "
                + ms + " ms");
        assertThat(slot.ruleCount()).isEqualTo(100_000);
        assertThat(slot.committedLines()).hasSize(100_000).endsWith("appraise fsmagic=0x01021994 fowner=99999");
        // Generous for a loaded 2-core machine; the quadratic append this replaced took tens of seconds.
        assertThat(ms).isLessThan(5_000);
    }

    @Test
    void aLineLongerThanTheKernelsLimitFailsEvenWhenItNeverEnds() {
        PolicySession s = open();
        assertThat(writeAll(s, "measure func=BPRM_CHECK\n")).isEmpty();
        byte[] endless = new byte[64 * 1024];
        Arrays.fill(endless, (byte) 'a');
        Optional<SessionError> e = writeInPieces(s, endless, 1000);
        assertThat(e).hasValueSatisfying(err -> {
            assertThat(err.line()).isEqualTo(2);
            assertThat(err.column()).isEqualTo(PolicyParser.MAX_LINE + 1);
            assertThat(err.reason()).contains("longer than 4095 bytes");
        });
        // The longest line the kernel takes is accepted, carried or not.
        PolicySession ok = new PolicySlot(KernelProfile.defaults()).openSession().orElseThrow();
        String longest = "measure func=BPRM_CHECK" + " ".repeat(PolicyParser.MAX_LINE - 23);
        assertThat(writeInPieces(ok, (longest + "\n" + longest).getBytes(UTF_8), 1000)).isEmpty();
        assertThat(ok.endLine()).isEmpty();
        assertThat(ok.pending()).isEqualTo(2);
    }

    @Test
    void eachFlushCommitsWhatWasAcceptedSinceTheLastAndTheReleaseOnlyFreesTheSlot() {
        PolicySession s = open();
        assertThat(slot.commit(s)).isInstanceOf(PolicySession.Outcome.Unchanged.class);
        writeAll(s, "measure func=BPRM_CHECK\nappraise fowner=1");
        PolicySession.Outcome first = slot.commit(s);
        assertThat(first).isInstanceOfSatisfying(PolicySession.Outcome.Accepted.class,
                a -> assertThat(a.lines()).containsExactly("measure func=BPRM_CHECK", "appraise fowner=1"));
        assertThat(slot.ruleCount()).isEqualTo(2);
        // A descriptor still open (dup'd, inherited) writes on: the flush ended the line, so this is a
        // new line ("2", no action), as it would be after a write's end in the kernel.
        writeAll(s, "2\n");
        assertThat(slot.ruleCount()).isEqualTo(2);
        assertThat(s.failed()).isTrue();
        assertThat(slot.close(s)).isInstanceOf(PolicySession.Outcome.Rejected.class);
        assertThat(slot.ruleCount()).isEqualTo(2);
        assertThat(slot.busy()).isFalse();

        PolicySession t = open();
        writeAll(t, "dont_measure fsmagic=0x9fa0\n");
        assertThat(slot.commit(t)).isInstanceOf(PolicySession.Outcome.Accepted.class);
        assertThat(slot.busy()).isTrue();
        assertThat(slot.close(t)).isInstanceOf(PolicySession.Outcome.Unchanged.class);
        assertThat(slot.busy()).isFalse();
        assertThat(slot.committed().orElseThrow().show())
                .isEqualTo("measure func=BPRM_CHECK \nappraise fowner=1 \ndont_measure fsmagic=0x9fa0 \n");
    }

    @Test
    void anEmptySessionOrOneWithOnlyCommentsFails() {
        PolicySession s = open();
        assertThat(slot.commit(s)).isInstanceOf(PolicySession.Outcome.Unchanged.class);
        assertThat(slot.close(s)).isEqualTo(new PolicySession.Outcome.Rejected(
                new SessionError(0, 0, "no rules in policy update")));
        PolicySession c = open();
        assertThat(writeAll(c, "# nothing\n\n   \n\t# more")).isEmpty();
        assertThat(slot.close(c)).isInstanceOf(PolicySession.Outcome.Rejected.class);
        assertThat(slot.committed()).isEmpty();
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
