package dev.imans.ns;

import dev.imans.policy.Policy;
import dev.imans.policy.PolicyError;
import dev.imans.policy.PolicyException;
import dev.imans.policy.KernelProfile;
import dev.imans.policy.PolicyParser;
import dev.imans.policy.Rule;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One open/write/close of a policy file, as {@code ima_write_policy} and
 * {@code ima_release_policy} (security/integrity/ima/ima_fs.c) see it, except for where a line ends.
 *
 * <p>The kernel parses one line per {@code write()}: the end of a write ends its rule. Through FUSE
 * that cannot work: {@code cat} writes 128 KiB blocks that end mid-line, and the kernel's FUSE
 * write path splits a writer's data at {@code max_write}, so a rule would be cut in two and each
 * half parsed on its own. This session instead carries an unterminated last line over to the next
 * write and parses it when the file is flushed ({@link #endLine}, at every close(2)): the rules are
 * exactly the newline-separated lines of what was written, as the kernel would take them one write
 * each. The carried line is bounded by the kernel's longest rule, so memory stays bounded whatever
 * is written. Line numbers count from the session's first byte.
 *
 * <p>The first bad line fails the session: the write that completes it (or the flush, for an
 * unterminated last line) fails, and every later write and flush too. Accepted rules wait here
 * until {@link PolicySlot#commit} takes them; a failed session gives none.
 */
public final class PolicySession {
    private final byte[] tail = new byte[PolicyParser.MAX_LINE];
    private int tailLength;
    private List<Rule> pendingRules = new ArrayList<>();
    private List<String> pendingLines = new ArrayList<>();
    private int rulesTaken;
    private int lineNumber;
    private SessionError failure;
    private boolean failureTold;
    private boolean finished;
    private final PolicySlot slot;
    private final KernelProfile profile;

    PolicySession(PolicySlot slot, KernelProfile profile) {
        this.slot = slot;
        this.profile = profile;
    }

    /** {@link PolicySlot#commit} on this session's slot (a close(2)). */
    public Outcome commit() {
        return slot.commit(this);
    }

    /** {@link PolicySlot#close} on this session's slot (the last descriptor is gone). */
    public Outcome close() {
        return slot.close(this);
    }

    /** Parses {@code data} on from the line carried over from the last write; see {@link #write(byte[], int, int)}. */
    public Optional<SessionError> write(byte[] data) {
        return write(data, 0, data.length);
    }

    /**
     * Parses every line {@code data} completes; an unterminated rest is carried to the next write
     * or to {@link #endLine}. All of {@code data} is always taken (no short count).
     *
     * @return the session's error (the write then fails with EINVAL): the first bad line, now or
     *     in an earlier write
     */
    public Optional<SessionError> write(byte[] data, int offset, int length) {
        requireOpen();
        int end = offset + length;
        int start = offset;
        while (start < end && failure == null) {
            int nl = start;
            while (nl < end && data[nl] != '\n') {
                nl++;
            }
            if (nl == end) {
                carry(data, start, end);
                break;
            }
            if (tailLength == 0) {
                line(data, start, nl - start);
            } else if (carry(data, start, nl)) {
                line(tail, 0, tailLength);
                tailLength = 0;
            }
            start = nl + 1;
        }
        return Optional.ofNullable(failure);
    }

    /**
     * Ends the carried unterminated line, if any, and parses it (a flush: the writer closed a
     * descriptor, so what it wrote last was a whole line, as a write's end is in the kernel).
     *
     * @return the session's error, if it has one: the close then fails with EINVAL
     */
    public Optional<SessionError> endLine() {
        requireOpen();
        if (failure == null && tailLength > 0) {
            line(tail, 0, tailLength);
        }
        tailLength = 0;
        return Optional.ofNullable(failure);
    }

    /** Whether a failure has been seen (the session can only be rejected now). */
    public boolean failed() {
        return failure != null;
    }

    /** The session's error, if it has one. */
    public Optional<SessionError> failure() {
        return Optional.ofNullable(failure);
    }

    /** How many rules were accepted and are not yet taken for commit. */
    public int pending() {
        return pendingRules.size();
    }

    /** Fails the session from outside (its namespace went away); a first failure stays. */
    void fail(SessionError error) {
        if (failure == null) {
            failure = error;
        }
    }

    /** True the first time it is asked after the session failed: its failure is reported once. */
    boolean tellFailure() {
        boolean first = !failureTold;
        failureTold = true;
        return first;
    }

    /** Hands the accepted rules over for commit; empty when there are none (or the session failed). */
    Optional<Outcome.Accepted> take() {
        if (failure != null || pendingRules.isEmpty()) {
            return Optional.empty();
        }
        Outcome.Accepted a = new Outcome.Accepted(Policy.of(pendingRules), List.copyOf(pendingLines));
        rulesTaken += pendingRules.size();
        pendingRules = new ArrayList<>();
        pendingLines = new ArrayList<>();
        return Optional.of(a);
    }

    /** Whether some of the session's rules were committed already (at an earlier close of a descriptor). */
    public boolean committedAny() {
        return rulesTaken > 0;
    }

    /** How many of the session's rules were taken for commit so far. */
    int rulesTaken() {
        return rulesTaken;
    }

    void finish() {
        requireOpen();
        finished = true;
    }

    /** Appends {@code data[from, to)} to the carried line; false (and the session fails) when it grows too long. */
    private boolean carry(byte[] data, int from, int to) {
        int n = to - from;
        if (n > tail.length - tailLength) {
            tooLong();
            return false;
        }
        System.arraycopy(data, from, tail, tailLength, n);
        tailLength += n;
        return true;
    }

    private void line(byte[] data, int offset, int length) {
        if (length > PolicyParser.MAX_LINE) {
            tooLong();
            return;
        }
        lineNumber++;
        String line = new String(data, offset, length, StandardCharsets.UTF_8);
        try {
            Optional<Rule> rule = PolicyParser.parseLine(line, lineNumber, profile);
            if (rule.isPresent()) {
                pendingRules.add(rule.get());
                pendingLines.add(line.strip());
            }
        } catch (PolicyException e) {
            PolicyError first = e.errors().getFirst();
            failure = new SessionError(lineNumber, first.column(), first.reason());
        }
    }

    private void tooLong() {
        failure = new SessionError(lineNumber + 1, PolicyParser.MAX_LINE + 1, "rule longer than "
                + PolicyParser.MAX_LINE + " bytes: the kernel reads at most " + PolicyParser.MAX_LINE
                + " bytes per write and would cut it apart");
    }

    private void requireOpen() {
        if (finished) {
            throw new IllegalStateException("policy session already finished");
        }
    }

    /** What committing or closing the session produced. */
    public sealed interface Outcome {
        /** Rules appended to the committed policy now; {@code lines} is their source text. */
        record Accepted(Policy rules, List<String> lines) implements Outcome {}

        /**
         * The session failed: none of its uncommitted rules are, or will be, committed; the policy
         * stays as it was.
         *
         * @param first whether this is the first time the failure is reported
         */
        record Rejected(SessionError error, boolean first) implements Outcome {
            public Rejected(SessionError error) {
                this(error, true);
            }
        }

        /** Nothing new to commit (nothing written since the last commit). */
        record Unchanged() implements Outcome {}
    }
}
