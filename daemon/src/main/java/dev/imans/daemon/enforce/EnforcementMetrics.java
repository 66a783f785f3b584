package dev.imans.daemon.enforce;

import java.util.concurrent.atomic.LongAdder;

/** Counters of the decision engine, for logs, tests and the benchmark. */
public final class EnforcementMetrics {
    /** Appraisals computed (xattr read, file hashed). */
    public final LongAdder appraisals = new LongAdder();
    /** Appraisals answered from the integrity cache. */
    public final LongAdder cacheHits = new LongAdder();
    /** Ignore marks requested. */
    public final LongAdder ignoreMarks = new LongAdder();
    /** Times all ignore marks were flushed (policy, registration change, or a file changed while marked). */
    public final LongAdder flushes = new LongAdder();
    /** Measurements not taken because the file could not be read or hashed. */
    public final LongAdder measureFailures = new LongAdder();
    /** Filesystems marked. */
    public final LongAdder filesystemsMarked = new LongAdder();

    @Override
    public String toString() {
        return "appraisals " + appraisals.sum() + ", cache hits " + cacheHits.sum() + ", ignore marks "
                + ignoreMarks.sum() + ", flushes " + flushes.sum() + ", filesystems marked " + filesystemsMarked.sum()
                + ", measurement failures " + measureFailures.sum();
    }
}
