package dev.imans.daemon.fanotify;

import dev.imans.linux.Fanotify;
import java.time.Duration;

/**
 * Settings of the permission engine, with their defaults in {@link #defaults()}.
 *
 * @param workers decision worker threads for deferred (cold) events
 * @param queueCapacity deferred events that may wait for a worker; beyond that {@code onOverload} answers
 * @param bufferBytes size of the reader's batch buffer (24 bytes per event, 32 with pidfds)
 * @param reportPidfd ask for FAN_REPORT_PIDFD (5.15+; silently without it on older kernels)
 * @param onDecisionError answer when the decider throws or returns nothing usable
 * @param onOverload answer when the worker queue is full
 * @param modifyMask events of the modification watcher that drop ignore marks and notify listeners
 * @param shutdownTimeout how long stop waits for the reader and workers before releasing the group anyway
 */
public record EngineConfig(int workers, int queueCapacity, int bufferBytes, boolean reportPidfd,
        FailurePolicy onDecisionError, FailurePolicy onOverload, long modifyMask, Duration shutdownTimeout) {

    public EngineConfig {
        if (workers < 1 || queueCapacity < 1 || bufferBytes < 4096) {
            throw new IllegalArgumentException("workers and queueCapacity must be >= 1, bufferBytes >= 4096");
        }
        if (onDecisionError == null || onOverload == null || shutdownTimeout == null || shutdownTimeout.isNegative()) {
            throw new IllegalArgumentException("failure policies and a non-negative shutdown timeout are required");
        }
        if ((modifyMask & ~(Fanotify.FAN_CLOSE_WRITE | Fanotify.FAN_MODIFY)) != 0 || modifyMask == 0) {
            throw new IllegalArgumentException("modifyMask must be FAN_CLOSE_WRITE and/or FAN_MODIFY");
        }
    }

    /**
     * Two workers, 1024 queued deferrals, 64 KiB batches, no pidfds, deny on errors and overload, and
     * FAN_CLOSE_WRITE|FAN_MODIFY watching.
     *
     * <p>No pidfds: the opener's {@code /proc/PID} names it while it waits for the answer, and its pid can
     * name another process only after it was killed meanwhile and reaped, and the pids wrapped around;
     * the answer then goes to a cancelled open, and an ignore mark never depends on the opener. A pidfd
     * the kernel makes and the daemon closes for every event is a cost on every cold open for that.
     */
    public static EngineConfig defaults() {
        return new EngineConfig(2, 1024, 64 * 1024, false, FailurePolicy.DENY, FailurePolicy.DENY,
                Fanotify.FAN_CLOSE_WRITE | Fanotify.FAN_MODIFY, Duration.ofSeconds(2));
    }

    public EngineConfig withWorkers(int n) {
        return new EngineConfig(n, queueCapacity, bufferBytes, reportPidfd, onDecisionError, onOverload, modifyMask,
                shutdownTimeout);
    }

    public EngineConfig withQueueCapacity(int n) {
        return new EngineConfig(workers, n, bufferBytes, reportPidfd, onDecisionError, onOverload, modifyMask,
                shutdownTimeout);
    }

    public EngineConfig withOnDecisionError(FailurePolicy p) {
        return new EngineConfig(workers, queueCapacity, bufferBytes, reportPidfd, p, onOverload, modifyMask,
                shutdownTimeout);
    }

    public EngineConfig withOnOverload(FailurePolicy p) {
        return new EngineConfig(workers, queueCapacity, bufferBytes, reportPidfd, onDecisionError, p, modifyMask,
                shutdownTimeout);
    }

    public EngineConfig withShutdownTimeout(Duration d) {
        return new EngineConfig(workers, queueCapacity, bufferBytes, reportPidfd, onDecisionError, onOverload,
                modifyMask, d);
    }
}
