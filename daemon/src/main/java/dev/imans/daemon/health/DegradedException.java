package dev.imans.daemon.health;

/**
 * A change was made but left the daemon in a degraded state (now shown by {@link Health}): the
 * control write that caused it should fail with EIO rather than report success.
 */
public final class DegradedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public DegradedException(String message) {
        super(message);
    }
}
