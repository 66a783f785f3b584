package dev.imans.daemon.fanotify;

import dev.imans.linux.FanotifyResponder;
import java.util.concurrent.ArrayBlockingQueue;

/**
 * Agent: the marker, one platform thread that does the reader's after-answer work ({@link
 * Decider#answered}: the ignore mark and its watches, three {@code fanotify_mark} calls) so that the
 * reader is back at the group as soon as an opener has its answer. On a cold pass the marks were a
 * fifth of each event's time on the reader (bench/run.sh); they change no verdict already given, only
 * whether the kernel asks again about the file.
 *
 * <p>Owns: the events handed to it, with their file descriptors, until their work is done; then it
 * closes them (the reader closes the pidfd at once). Every mark keeps the guarantees of
 * {@link IgnoreMarks#add} and of the decider's checks that follow it (policy snapshot, file stamp),
 * which do not depend on which thread runs them. A queue that is full, or a marker that stopped, makes
 * the reader do the work itself: nothing is dropped that would have been done. At shutdown, work not
 * started is dropped and its descriptors closed (a mark not placed costs one more permission event).
 *
 * <p>Bounded so that the descriptors it holds, which keep their files' filesystems busy, are released
 * within about a millisecond.
 */
final class Marker implements Runnable {
    static final int CAPACITY = 128;

    private final Decider decider;
    private final ArrayBlockingQueue<PermissionEvent> queue = new ArrayBlockingQueue<>(CAPACITY);
    private final FanotifyResponder closer = new FanotifyResponder();
    private final EngineMetrics metrics;
    private volatile boolean stopping;
    /** Run before each piece of work; tests hold the marker there to widen the time between answer and mark. */
    volatile Runnable hook = () -> { };

    Marker(Decider decider, EngineMetrics metrics) {
        this.decider = decider;
        this.metrics = metrics;
    }

    /**
     * Takes over {@code event} (a copy the reader no longer uses) and its fd; false when it cannot (queue
     * full, or stopping): then the caller does the work and closes the fd.
     */
    boolean offer(PermissionEvent event) {
        if (stopping || !queue.offer(event)) {
            metrics.afterAnswerInline.increment();
            return false;
        }
        return true;
    }

    /** Runs until interrupted ({@link #stop}); whatever ends it, later offers are refused. */
    @Override
    public void run() {
        try {
            while (!stopping) {
                PermissionEvent e = queue.take();
                hook.run();
                PermissionReader.answered(decider, e);
                closer.closeFd(e.fd());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            stopping = true;
            drop();
        }
    }

    /** Refuses new work and interrupts {@code thread} (the one running this marker), which drops the rest. */
    void stop(Thread thread) {
        stopping = true;
        thread.interrupt();
    }

    /** Closes the descriptors of work not started: after {@link #stop}, whichever thread gets here first. */
    void drop() {
        for (PermissionEvent e; (e = queue.poll()) != null; ) {
            closer.closeFd(e.fd());
        }
    }
}
