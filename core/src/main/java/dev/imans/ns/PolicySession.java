package dev.imans.ns;

import dev.imans.policy.Policy;
import dev.imans.policy.PolicyError;
import dev.imans.policy.PolicyException;
import dev.imans.policy.KernelProfile;
import dev.imans.policy.PolicyParser;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One open/write/close of a policy file, as {@code ima_write_policy} and
 * {@code ima_release_policy} (security/integrity/ima/ima_fs.c) see it.
 *
 * <p>The kernel parses one line per {@code write()}: it takes the data up to the first newline
 * (or all of it when there is none), parses that as one rule and returns its length, so the
 * writer's libc re-sends the rest. It remembers the first failure; on close the whole batch is
 * committed or, after any failure or when it holds no rule, thrown away. This class does the same
 * with every complete line of a write: {@link #write} consumes the data up to its last newline (or
 * all of it when there is none, which is then the last line, as the seed's single {@code printf}
 * writes it) and reports how much it consumed, so the rest comes back in the next write. The
 * write carrying a bad rule fails, and every later one too.
 */
public final class PolicySession {
    private final List<String> acceptedLines = new ArrayList<>();
    private Policy accepted;
    private int ruleLines;
    private int lineNumber;
    private SessionError failure;
    private boolean finished;
    private final KernelProfile profile;

    PolicySession(KernelProfile profile) {
        this.profile = profile;
    }

    /** What a {@code write()} did: how many bytes it consumed, or the session's error. */
    public record Written(int consumed, Optional<SessionError> error) {}

    /**
     * Parses the complete lines at the start of {@code data}.
     *
     * @return the bytes consumed (up to and including the last newline, or all of them when there
     *     is no newline), or the error of the session's first bad line (the write then fails with
     *     EINVAL)
     */
    public Written write(byte[] data) {
        requireOpen();
        if (failure != null) {
            return new Written(0, Optional.of(failure));
        }
        int lastNewline = -1;
        for (int i = data.length - 1; i >= 0; i--) {
            if (data[i] == '\n') {
                lastNewline = i;
                break;
            }
        }
        int end = lastNewline >= 0 ? lastNewline + 1 : data.length;
        int start = 0;
        while (start < end && failure == null) {
            int nl = start;
            while (nl < end && data[nl] != '\n') {
                nl++;
            }
            parseLine(new String(data, start, nl - start, StandardCharsets.UTF_8));
            start = nl + 1;
        }
        return new Written(end, Optional.ofNullable(failure));
    }

    /** The session's error, if it has one: the file's {@code close()} fails with it too. */
    public Optional<SessionError> flush() {
        requireOpen();
        return Optional.ofNullable(failure);
    }

    /** Ends the session; the result says whether its rules may be committed. */
    public Outcome finish() {
        requireOpen();
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

    private void parseLine(String line) {
        lineNumber++;
        String content = line.stripLeading();
        if (content.isEmpty() || content.startsWith("#")) {
            return; // ima_parse_add_rule accepts and ignores blank and comment lines
        }
        try {
            Policy p = PolicyParser.parse(line, profile);
            if (p.rules().isEmpty()) {
                return;
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
