package dev.imans.daemon.measure;

import java.time.Duration;

/**
 * How many lists of ended namespaces are kept, and for how long: the oldest beyond {@code keep} and
 * any older than {@code maxAge} are deleted whenever one is archived and at start.
 */
public record ArchivePolicy(int keep, Duration maxAge) {
    /** Enough for an attestation that comes late, bounded for hosts that run many short containers. */
    public static final ArchivePolicy DEFAULT = new ArchivePolicy(100, Duration.ofDays(30));

    public ArchivePolicy {
        if (keep < 0) {
            throw new IllegalArgumentException("archive count must be 0 or more, got " + keep);
        }
        if (maxAge.isNegative()) {
            throw new IllegalArgumentException("archive age must not be negative, got " + maxAge);
        }
    }
}
