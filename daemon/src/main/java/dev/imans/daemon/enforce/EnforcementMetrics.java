package dev.imans.daemon.enforce;

import dev.imans.xattr.AuditCause;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/** Counters of the decision engine, for logs, tests and the benchmark. */
public final class EnforcementMetrics {
    /** Appraisals computed (xattr read, file hashed). */
    public final LongAdder appraisals = new LongAdder();
    /** Appraisals answered from the integrity cache. */
    public final LongAdder cacheHits = new LongAdder();
    /** Files opened through an overlay that started from what another overlay of the same layer knew. */
    public final LongAdder sharedLayerFiles = new LongAdder();
    /** Opens allowed without looking up the opener: the file satisfied every rule that may cover it. */
    public final LongAdder openerSkipped = new LongAdder();
    /** Ignore marks requested. */
    public final LongAdder ignoreMarks = new LongAdder();
    /** Times all ignore marks were flushed (policy, registration change, or a file changed while marked). */
    public final LongAdder flushes = new LongAdder();
    /** Policy and registration changes that left the ignore marks in place: they made nothing stricter. */
    public final LongAdder flushesSkipped = new LongAdder();
    /** Ignore marks not placed because a stricter policy replaced the one their verdict came from. */
    public final LongAdder marksOfReplacedPolicies = new LongAdder();
    /** Ignore marks not placed because the file changed between its event and the mark's turn. */
    public final LongAdder marksOfChangedFiles = new LongAdder();
    /** Measurements not taken because the file could not be read or hashed. */
    public final LongAdder measureFailures = new LongAdder();
    /** Filesystems marked. */
    public final LongAdder filesystemsMarked = new LongAdder();
    /** Opens denied by an appraisal failure, by the kernel's audit cause ({@link AuditCause} ordinal). */
    private final LongAdder[] appraisalDenials = new LongAdder[AuditCause.values().length];
    /** Writers refused because the file's {@code security.ima} is a signature (the appraisal may have passed). */
    private final LongAdder signedWriteDenials = new LongAdder();

    /** The label of denials for writing a signed file (no audit cause: the kernel writes no record). */
    public static final String SIGNED_FILE_WRITE = "signed-file-write";

    public EnforcementMetrics() {
        for (int i = 0; i < appraisalDenials.length; i++) {
            appraisalDenials[i] = new LongAdder();
        }
    }

    void deniedFor(AuditCause cause) {
        appraisalDenials[cause.ordinal()].increment();
    }

    void deniedSignedWrite() {
        signedWriteDenials.increment();
    }

    /**
     * Denials by the decider, by cause: each kernel audit cause ({@code missing-hash},
     * {@code invalid-signature}, ...) and {@link #SIGNED_FILE_WRITE}, every one present (0 when unseen).
     * One per denied open: the first denying scope's cause.
     */
    public Map<String, Long> denialsByCause() {
        Map<String, Long> m = new LinkedHashMap<>();
        for (AuditCause c : AuditCause.values()) {
            m.put(c.text(), appraisalDenials[c.ordinal()].sum());
        }
        m.put(SIGNED_FILE_WRITE, signedWriteDenials.sum());
        return m;
    }

    @Override
    public String toString() {
        return "appraisals " + appraisals.sum() + ", cache hits " + cacheHits.sum() + ", shared layer files "
                + sharedLayerFiles.sum() + ", ignore marks "
                + ignoreMarks.sum() + ", flushes " + flushes.sum() + ", filesystems marked " + filesystemsMarked.sum()
                + ", measurement failures " + measureFailures.sum();
    }
}
