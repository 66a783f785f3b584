package dev.imans.daemon.fanotify;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/** Counters of the permission engine: cheap to bump from any thread ({@link LongAdder}). */
public final class EngineMetrics {
    /** Permission events read (every one is answered exactly once). */
    final LongAdder events = new LongAdder();
    final LongAdder allowed = new LongAdder();
    final LongAdder denied = new LongAdder();
    /** Events handed to decision workers. */
    final LongAdder deferred = new LongAdder();
    /** Allowed at once because the daemon's own process opened the file. */
    final LongAdder selfAllowed = new LongAdder();
    /** Allowed at once because the file is not a regular file (FIFO, device, socket, directory). */
    final LongAdder specialAllowed = new LongAdder();
    /** Decider exceptions and unusable answers, answered by the failure policy. */
    final LongAdder decisionErrors = new LongAdder();
    /** Deferrals refused because the worker queue was full, answered by the failure policy. */
    final LongAdder overloaded = new LongAdder();
    /** Pending events answered ALLOW by shutdown. */
    final LongAdder releasedAtShutdown = new LongAdder();
    /** Answers the kernel refused (write to the group failed). */
    final LongAdder responseErrors = new LongAdder();
    /** FAN_Q_OVERFLOW events (the kernel allowed opens unanswered). */
    final LongAdder overflows = new LongAdder();
    /** After-answer work (ignore marks) the reader did itself because the marker's queue was full. */
    final LongAdder afterAnswerInline = new LongAdder();
    final LongAdder ignoreMarksAdded = new LongAdder();
    final LongAdder ignoreMarksRemoved = new LongAdder();
    /** Modification events seen by the watcher. */
    final LongAdder modifications = new LongAdder();
    /** Attribute changes of ignore-marked files, and those that dropped every mark. */
    final LongAdder attributeChanges = new LongAdder();
    final LongAdder attributeFlushes = new LongAdder();
    /** Overlay backing mounts silenced ({@link BackingMounts}), and marks of them the kernel refused. */
    final LongAdder backingMountsIgnored = new LongAdder();
    final LongAdder backingMarkErrors = new LongAdder();
    /** Own opens on a mount outside the daemon's namespace that led to no overlay layer (left unmarked). */
    final LongAdder backingUnmatched = new LongAdder();
    /**
     * Opens of ignore-marked files, seen by the watcher's FAN_OPEN inode marks: the opens the kernel
     * answered from an ignore mark without asking. A lower bound (the kernel merges queued opens of one
     * file by one process), and it includes opens made while a writer kept the mark from being added.
     */
    final LongAdder ignoredOpens = new LongAdder();
    /**
     * Times a deciding thread read the notification group itself before using a cached verdict or
     * judging an exec ({@link Modifications#catchUp}).
     */
    final LongAdder modificationCatchUps = new LongAdder();

    /**
     * Upper bounds (inclusive, nanoseconds) of the decision latency histogram's buckets: from reading
     * the batch holding an event to writing its answer, so time spent behind other events counts.
     */
    static final long[] LATENCY_BOUNDS_NANOS = {
        10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000, 5_000_000, 10_000_000,
        25_000_000, 50_000_000, 100_000_000, 250_000_000, 1_000_000_000, 5_000_000_000L,
    };
    /** Answers per bucket (not cumulative); the last one is beyond every bound. */
    private final LongAdder[] latencyBuckets = new LongAdder[LATENCY_BOUNDS_NANOS.length + 1];
    private final LongAdder latencyNanos = new LongAdder();

    public EngineMetrics() {
        for (int i = 0; i < latencyBuckets.length; i++) {
            latencyBuckets[i] = new LongAdder();
        }
    }

    /** Records one answer's latency: a scan of a constant array and two adds, nothing allocated. */
    void latency(long nanos) {
        long[] bounds = LATENCY_BOUNDS_NANOS;
        int i = 0;
        while (i < bounds.length && nanos > bounds[i]) {
            i++;
        }
        latencyBuckets[i].increment();
        latencyNanos.add(nanos);
    }

    /** The latency histogram now: bucket upper bounds in seconds, cumulative counts, total, sum in seconds. */
    public Histogram latencyHistogram() {
        long[] counts = new long[latencyBuckets.length];
        long running = 0;
        for (int i = 0; i < counts.length; i++) {
            running += latencyBuckets[i].sum();
            counts[i] = running;
        }
        double[] bounds = new double[LATENCY_BOUNDS_NANOS.length];
        for (int i = 0; i < bounds.length; i++) {
            bounds[i] = LATENCY_BOUNDS_NANOS[i] / 1e9;
        }
        return new Histogram(bounds, counts, latencyNanos.sum() / 1e9);
    }

    /**
     * A cumulative histogram: {@code cumulative[i]} values at most {@code bounds[i]}, the last entry
     * (one more than {@code bounds}) all values.
     */
    public record Histogram(double[] bounds, long[] cumulative, double sum) {
        public long count() {
            return cumulative[cumulative.length - 1];
        }
    }

    public long ignoredOpens() {
        return ignoredOpens.sum();
    }

    public long modificationCatchUps() {
        return modificationCatchUps.sum();
    }

    public long events() {
        return events.sum();
    }

    public long allowed() {
        return allowed.sum();
    }

    public long denied() {
        return denied.sum();
    }

    public long deferred() {
        return deferred.sum();
    }

    public long selfAllowed() {
        return selfAllowed.sum();
    }

    public long specialAllowed() {
        return specialAllowed.sum();
    }

    public long decisionErrors() {
        return decisionErrors.sum();
    }

    public long overloaded() {
        return overloaded.sum();
    }

    public long releasedAtShutdown() {
        return releasedAtShutdown.sum();
    }

    public long responseErrors() {
        return responseErrors.sum();
    }

    public long overflows() {
        return overflows.sum();
    }

    public long afterAnswerInline() {
        return afterAnswerInline.sum();
    }

    public long ignoreMarksAdded() {
        return ignoreMarksAdded.sum();
    }

    public long ignoreMarksRemoved() {
        return ignoreMarksRemoved.sum();
    }

    public long modifications() {
        return modifications.sum();
    }

    public long backingMountsIgnored() {
        return backingMountsIgnored.sum();
    }

    public long backingMarkErrors() {
        return backingMarkErrors.sum();
    }

    public long attributeChanges() {
        return attributeChanges.sum();
    }

    public long attributeFlushes() {
        return attributeFlushes.sum();
    }

    /** All counters by name, in a stable order, for status output. */
    public Map<String, Long> snapshot() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("events", events());
        m.put("allowed", allowed());
        m.put("denied", denied());
        m.put("deferred", deferred());
        m.put("self_allowed", selfAllowed());
        m.put("special_allowed", specialAllowed());
        m.put("decision_errors", decisionErrors());
        m.put("overloaded", overloaded());
        m.put("released_at_shutdown", releasedAtShutdown());
        m.put("response_errors", responseErrors());
        m.put("overflows", overflows());
        m.put("after_answer_inline", afterAnswerInline());
        m.put("ignore_marks_added", ignoreMarksAdded());
        m.put("ignore_marks_removed", ignoreMarksRemoved());
        m.put("modifications", modifications());
        m.put("attribute_changes", attributeChanges());
        m.put("attribute_flushes", attributeFlushes());
        m.put("backing_mounts_ignored", backingMountsIgnored());
        m.put("backing_mark_errors", backingMarkErrors());
        m.put("ignored_opens", ignoredOpens());
        m.put("modification_catch_ups", modificationCatchUps());
        return m;
    }

    void count(Verdict v) {
        (v == Verdict.ALLOW ? allowed : denied).increment();
    }
}
