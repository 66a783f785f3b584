package dev.imans.daemon.fanotify;

/**
 * What the engine answers when it has no verdict: the decider threw, returned nothing usable, or the
 * decision workers are saturated.
 *
 * <p>The default is {@link #DENY}, as kernel IMA in enforce mode denies when it cannot complete an
 * appraisal (a failed measurement is an integrity failure, not a pass). {@link #ALLOW} matches what the
 * kernel itself does when the listener is gone or its queue overflows (fail open), for deployments that
 * rank availability above enforcement. Opens by the daemon's own process are always allowed, so a
 * failing decider cannot lock the daemon out of its own files.
 */
public enum FailurePolicy {
    ALLOW(Verdict.ALLOW),
    DENY(Verdict.DENY);

    private final Verdict verdict;

    FailurePolicy(Verdict verdict) {
        this.verdict = verdict;
    }

    public Verdict verdict() {
        return verdict;
    }
}
