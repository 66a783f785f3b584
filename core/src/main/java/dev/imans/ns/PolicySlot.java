package dev.imans.ns;

import dev.imans.policy.KernelProfile;
import dev.imans.policy.Policy;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The policy of the host or of one registered namespace: the committed rules and at most one
 * write session (the kernel's {@code IMA_FS_BUSY} bit, one per policy file here).
 *
 * <p>Commits append (the kernel with CONFIG_IMA_WRITE_POLICY): rules are never removed.
 */
public final class PolicySlot {
    private Policy committed;
    private final List<String> committedLines = new ArrayList<>();
    private PolicySession writer;
    private boolean detached;
    private final KernelProfile profile;

    PolicySlot(KernelProfile profile) {
        this.profile = profile;
    }

    /** Opens a write session, or empty if one is already open (the writer then gets EBUSY). */
    public Optional<PolicySession> openSession() {
        if (writer != null || detached) {
            return Optional.empty();
        }
        writer = new PolicySession(this, profile);
        return Optional.of(writer);
    }

    /**
     * Commits what {@code session} has accepted so far, its unterminated last line included (a
     * close(2) of one of the writer's descriptors). A failed session commits nothing more; a session
     * of a slot whose namespace was unregistered meanwhile fails.
     */
    public PolicySession.Outcome commit(PolicySession session) {
        requireWriter(session);
        session.endLine();
        if (detached) {
            session.fail(new SessionError(0, 0, "namespace no longer registered"));
        }
        if (session.failed()) {
            return new PolicySession.Outcome.Rejected(session.failure().orElseThrow(), session.tellFailure());
        }
        Optional<PolicySession.Outcome.Accepted> taken = session.take();
        if (taken.isEmpty()) {
            return new PolicySession.Outcome.Unchanged();
        }
        PolicySession.Outcome.Accepted a = taken.get();
        committed = committed == null ? a.rules() : committed.append(a.rules());
        committedLines.addAll(a.lines());
        return a;
    }

    /**
     * Ends {@code session} (the last descriptor is gone): commits what is left as {@link #commit}
     * does, and frees the slot. A session that committed no rule at all fails, as
     * {@code ima_check_policy} fails an empty update.
     */
    public PolicySession.Outcome close(PolicySession session) {
        PolicySession.Outcome outcome = commit(session);
        writer = null;
        session.finish();
        if (outcome instanceof PolicySession.Outcome.Unchanged && session.rulesTaken() == 0) {
            return new PolicySession.Outcome.Rejected(new SessionError(0, 0, "no rules in policy update"));
        }
        return outcome;
    }

    private void requireWriter(PolicySession session) {
        if (session != writer) {
            throw new IllegalStateException("not this slot's open session");
        }
    }

    /** The committed policy, empty before the first successful commit. */
    public Optional<Policy> committed() {
        return Optional.ofNullable(committed);
    }

    /** The source lines of every committed rule, in order; parsing them gives {@link #committed()}. */
    public List<String> committedLines() {
        return List.copyOf(committedLines);
    }

    /** The number of committed rules. */
    public int ruleCount() {
        return committed == null ? 0 : committed.rules().size();
    }

    /** Whether a writer has the policy file open. */
    public boolean busy() {
        return writer != null;
    }

    /**
     * Installs a policy restored from the journal, before any session can be opened.
     *
     * @param lines the source lines {@code policy} was parsed from
     */
    public void restore(Policy policy, List<String> lines) {
        if (committed != null || writer != null) {
            throw new IllegalStateException("restore only into a fresh slot");
        }
        committed = policy;
        committedLines.addAll(lines);
    }

    void detach() {
        detached = true;
    }
}
