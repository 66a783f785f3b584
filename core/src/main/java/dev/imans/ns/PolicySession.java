package dev.imans.ns;

import dev.imans.policy.Policy;
import dev.imans.policy.PolicyError;
import dev.imans.policy.PolicyException;
import dev.imans.policy.PolicyParser;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One open/write/close of a policy file, as {@code ima_write_policy} and
 * {@code ima_release_policy} (security/integrity/ima/ima_fs.c) see it.
 *
 * <p>The kernel parses one line per {@code write()} and remembers the first failure; on close the
 * whole batch is committed or, after any failure or when it holds no rule, thrown away. Here bytes
 * are accumulated, and every line is parsed as soon as its newline arrives, so the write that
 * carries a bad rule fails just as in the kernel. The last line needs no newline (the seed writes
 * its policy with a single {@code printf}); it is parsed when the file is flushed or closed.
 * After the first failure nothing more is parsed and the session can only be rejected.
 */
public final class PolicySession {
    private final ByteArrayOutputStream partial = new ByteArrayOutputStream();
    private final List<String> acceptedLines = new ArrayList<>();
    private Policy accepted;
    private int ruleLines;
    private int lineNumber;
    private SessionError failure;
    private boolean finished;

    PolicySession() {}

    /**
     * Adds bytes written to the policy file and parses each line they complete.
     *
     * @return the error of the first bad line of the session, if there is one now (then the
     *     {@code write()} fails with EINVAL)
     */
    public Optional<SessionError> write(byte[] data) {
        requireOpen();
        if (failure != null) {
            return Optional.of(failure);
        }
        int start = 0;
        for (int i = 0; i < data.length && failure == null; i++) {
            if (data[i] == '\n') {
                partial.write(data, start, i - start);
                start = i + 1;
                parseLine(takePartial());
            }
        }
        if (failure == null) {
            partial.write(data, start, data.length - start);
        }
        return Optional.ofNullable(failure);
    }

    /**
     * Parses a last line that has no newline; the file is being flushed, so the writer is done.
     *
     * @return the session's error, if it has one
     */
    public Optional<SessionError> flush() {
        requireOpen();
        if (failure == null && partial.size() > 0) {
            parseLine(takePartial());
        }
        return Optional.ofNullable(failure);
    }

    /** Ends the session; the result says whether its rules may be committed. */
    public Outcome finish() {
        flush();
        finished = true;
        if (failure != null) {
            return new Outcome.Rejected(failure);
        }
        if (accepted == null || ruleLines == 0) {
            // ima_check_policy(): an empty batch fails the update (-EINVAL, not seen by the writer).
            return new Outcome.Rejected(new SessionError(0, 0, "no rules in policy update"));
        }
        return new Outcome.Accepted(accepted, List.copyOf(acceptedLines));
    }

    /** Whether a failure has been seen (the session can only be rejected now). */
    public boolean failed() {
        return failure != null;
    }

    private String takePartial() {
        String line = partial.toString(StandardCharsets.UTF_8);
        partial.reset();
        return line;
    }

    private void parseLine(String line) {
        lineNumber++;
        try {
            Policy p = PolicyParser.parse(line);
            if (p.rules().isEmpty()) {
                return; // blank or comment: accepted and ignored, as the kernel does
            }
            accepted = accepted == null ? p : accepted.append(p);
            ruleLines++;
            acceptedLines.add(line.strip());
        } catch (PolicyException e) {
            List<PolicyError> errors = e.errors();
            if (errors.isEmpty()) {
                failure = new SessionError(lineNumber, 0, e.getMessage());
            } else {
                PolicyError first = errors.getFirst();
                failure = new SessionError(lineNumber, first.column(), first.reason());
            }
        }
    }

    private void requireOpen() {
        if (finished) {
            throw new IllegalStateException("policy session already finished");
        }
    }

    /** What closing the session produced. */
    public sealed interface Outcome {
        /** The session's rules, to be appended to the committed policy; {@code lines} is their source text. */
        record Accepted(Policy rules, List<String> lines) implements Outcome {}

        /** The session is thrown away; the old policy stays in force. */
        record Rejected(SessionError error) implements Outcome {}
    }
}
