package dev.imans.daemon.fanotify;

/**
 * Decides permission events. The engine calls {@link #decide} on its reader thread for every event
 * that needs a decision, and {@link #decideDeferred} on a decision worker for those it deferred.
 *
 * <p>Rules for {@link #decide} (it runs while the reader holds every other pending event): be quick
 * (cache lookups, no hashing), never block, never open a file by path (that could raise a permission
 * event only this same thread can answer), never log before returning. Do not keep the
 * {@link PermissionEvent}: it is reused for the next event. Do not close its descriptors.
 *
 * <p>Exceptions from either method are answered with the engine's {@link FailurePolicy}.
 */
public interface Decider {
    /** ALLOW or DENY now, or DEFER for the cold path. */
    Verdict decide(PermissionEvent event);

    /**
     * The cold path on a worker thread (hashing through {@code event.fd()} with pread, never by path):
     * ALLOW or DENY. The event here is a private copy; it may be kept until this method returns.
     */
    default Verdict decideDeferred(PermissionEvent event) throws Exception {
        throw new IllegalStateException(getClass().getName() + " deferred an event but has no cold path");
    }

    /**
     * After the answer to {@code event} is written, before its descriptors are closed, on the thread that
     * decided it: what {@link PermissionEvent#afterAnswer} left to do. The opener runs meanwhile, so
     * nothing here may change its verdict. Must not throw (the engine logs and goes on if it does).
     */
    default void answered(PermissionEvent event) {}
}
