package dev.imans.daemon.measure;

import dev.imans.daemon.Log;
import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The measurement appender, one thread. Charter: it alone adds entries to the lists and writes their
 * files; the decision threads only queue work here, so a template digest, four PCR extends and a file
 * write never delay an opener. It must not touch fanotify or the namespace registry.
 *
 * <p>Nothing queued is lost: the queue is unbounded, {@link #close} runs everything queued before the
 * last flush, and a reader calls {@link #awaitQueued} first, so a list read after an open was answered
 * holds that open's entry, as the kernel's list does.
 *
 * <p>Flushing (saving the lists) happens at most {@code flushDelay} after the first task since the last
 * flush, and at close.
 */
final class MeasurementAppender implements AutoCloseable {
    private static final Runnable STOP = () -> { };

    private final LinkedBlockingQueue<Runnable> queue = new LinkedBlockingQueue<>();
    private final AtomicLong submitted = new AtomicLong();
    private final Object progress = new Object();
    private long done;
    private final Runnable flush;
    private final long flushDelayNanos;
    private final Thread thread;

    MeasurementAppender(Runnable flush, Duration flushDelay) {
        this.flush = flush;
        this.flushDelayNanos = flushDelay.toNanos();
        this.thread = Thread.ofPlatform().name("imans-measure-appender").daemon(true).unstarted(this::run);
        thread.start();
    }

    /** Queues {@code task}; it runs on the appender thread in submission order. */
    void submit(Runnable task) {
        // Counted before queued: a reader that sees the count waits for this task (see awaitQueued).
        submitted.incrementAndGet();
        queue.add(task);
    }

    /**
     * Waits until every task submitted before this call has run, at most {@code limit}; false on timeout
     * (the appender is stuck or gone: the caller reads what is there).
     */
    boolean awaitQueued(Duration limit) throws InterruptedException {
        long target = submitted.get();
        long deadline = System.nanoTime() + limit.toNanos();
        synchronized (progress) {
            while (done < target) {
                long left = deadline - System.nanoTime();
                if (left <= 0 || !thread.isAlive()) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(progress, left);
            }
        }
        return true;
    }

    private void run() {
        long firstUnflushed = -1;
        while (true) {
            Runnable task;
            try {
                long wait = firstUnflushed < 0 ? TimeUnit.SECONDS.toNanos(60)
                        : Math.max(0, firstUnflushed + flushDelayNanos - System.nanoTime());
                task = queue.poll(wait, TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                task = STOP;
            }
            if (task == STOP) {
                safeFlush();
                return;
            }
            if (task != null) {
                try {
                    task.run();
                } catch (RuntimeException e) {
                    Log.error("measurement not recorded: " + e);
                }
                synchronized (progress) {
                    done++;
                    progress.notifyAll();
                }
                if (firstUnflushed < 0) {
                    firstUnflushed = System.nanoTime();
                }
            }
            if (firstUnflushed >= 0 && System.nanoTime() - firstUnflushed >= flushDelayNanos) {
                safeFlush();
                firstUnflushed = -1;
            }
        }
    }

    private void safeFlush() {
        try {
            flush.run();
        } catch (RuntimeException e) {
            Log.error("cannot save measurement lists: " + e);
        }
    }

    /** Runs every queued task, flushes, and stops the thread. */
    @Override
    public void close() {
        queue.add(STOP);
        try {
            thread.join(TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            Log.error("measurement appender did not stop within 30 s");
        }
    }
}
