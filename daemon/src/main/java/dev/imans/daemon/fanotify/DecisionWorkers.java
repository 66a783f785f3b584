package dev.imans.daemon.fanotify;

import dev.imans.linux.FanotifyResponder;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Agent: the decision workers, a bounded pool of platform threads for cold work (hashing).
 *
 * <p>Owns: the deferred events until they are answered, and their descriptors. Every deferred event is
 * answered exactly once: by its worker (with the decider's verdict, or the failure policy if the
 * decider throws) or by shutdown (ALLOW). Shutdown closes the descriptors only of events no worker
 * has started; a running worker keeps using its event's descriptor, so only that worker may close
 * it (closing it under the worker would let its fd number be reused by another file mid-hash). Must not: read the group, or block the
 * reader (a full queue is refused at once and answered by the reader with the overload policy).
 */
final class DecisionWorkers {
    private final Decider decider;
    private final Reply reply;
    private final EngineMetrics metrics;
    private final FailurePolicy onError;
    private final ThreadPoolExecutor pool;
    private final Set<Pending> pending = ConcurrentHashMap.newKeySet();
    private final ThreadLocal<FanotifyResponder> responders = ThreadLocal.withInitial(FanotifyResponder::new);
    private final QuietLog errors = new QuietLog("deferred decision failed, answered by policy");

    DecisionWorkers(Decider decider, Reply reply, EngineMetrics metrics, EngineConfig config) {
        this.decider = decider;
        this.reply = reply;
        this.metrics = metrics;
        this.onError = config.onDecisionError();
        AtomicInteger n = new AtomicInteger();
        this.pool = new ThreadPoolExecutor(config.workers(), config.workers(), 0, TimeUnit.MILLISECONDS,
                new ArrayBlockingQueue<>(config.queueCapacity()),
                r -> Thread.ofPlatform().daemon().name("imans-decision-" + n.incrementAndGet()).unstarted(r),
                new ThreadPoolExecutor.AbortPolicy());
        pool.prestartAllCoreThreads();
    }

    /** Queues a detached event; false when the queue is full or the pool stopped (the caller answers). */
    boolean submit(PermissionEvent event) {
        Pending p = new Pending(event);
        pending.add(p);
        try {
            pool.execute(p);
            return true;
        } catch (RejectedExecutionException e) {
            pending.remove(p);
            return false;
        }
    }

    /** Stops the workers (interrupting them) and answers every event still pending with ALLOW. */
    void shutdown(FanotifyResponder responder) {
        pool.shutdownNow();
        for (Pending p : pending) {
            if (p.state.compareAndSet(QUEUED, ANSWERED)) {
                pending.remove(p);
                reply.send(responder, p.event.fd(), p.event.pidfd(), Verdict.ALLOW, p.event.readNanos());
                metrics.releasedAtShutdown.increment();
            } else if (p.state.compareAndSet(RUNNING, RELEASED)) {
                pending.remove(p);
                reply.answer(responder, p.event.fd(), Verdict.ALLOW, p.event.readNanos());
                metrics.releasedAtShutdown.increment();
            }
        }
    }

    boolean awaitTermination(Duration timeout) throws InterruptedException {
        return pool.awaitTermination(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    int pendingCount() {
        return pending.size();
    }

    /** {@link Pending#state}: queued, taken by a worker, answered by its worker, answered by shutdown. */
    private static final int QUEUED = 0;
    private static final int RUNNING = 1;
    private static final int ANSWERED = 2;
    private static final int RELEASED = 3;

    private final class Pending implements Runnable {
        final PermissionEvent event;
        final AtomicInteger state = new AtomicInteger(QUEUED);

        Pending(PermissionEvent event) {
            this.event = event;
        }

        @Override
        public void run() {
            if (!state.compareAndSet(QUEUED, RUNNING)) {
                return;
            }
            Verdict v;
            Throwable failure = null;
            try {
                v = decider.decideDeferred(event);
            } catch (Throwable t) {
                v = null;
                failure = t;
            }
            boolean usable = v == Verdict.ALLOW || v == Verdict.DENY;
            if (!state.compareAndSet(RUNNING, ANSWERED)) {
                // Shutdown answered while this ran; the descriptors are still this worker's to close.
                reply.close(responders.get(), event.fd(), event.pidfd());
                return;
            }
            pending.remove(this);
            reply.answer(responders.get(), event.fd(), usable ? v : onError.verdict(), event.readNanos());
            if (usable) {
                PermissionReader.answered(decider, event);
            }
            reply.close(responders.get(), event.fd(), event.pidfd());
            if (!usable) {
                metrics.decisionErrors.increment();
                errors.log(Level.WARNING, event + " -> " + (failure == null ? String.valueOf(v) : failure.toString()),
                        failure);
            }
        }
    }
}
