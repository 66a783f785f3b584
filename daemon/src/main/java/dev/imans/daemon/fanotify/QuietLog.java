package dev.imans.daemon.fanotify;

import java.lang.System.Logger.Level;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A log for things that can happen once per event (decider failures, overload): the first ten are
 * logged, then one in a thousand with the running count, so a storm cannot turn into a logging storm.
 *
 * <p>Records are handed to one background thread through a bounded queue and dropped when it is full:
 * the reader must never wait on a log sink (a stderr pipe that nobody drains would otherwise freeze
 * every opener on the marked filesystems), and it always calls this after the answer was written.
 */
final class QuietLog {
    private static final System.Logger LOG = System.getLogger("dev.imans.daemon.fanotify");
    private static final BlockingQueue<Runnable> RECORDS = new ArrayBlockingQueue<>(1024);
    private static final AtomicLong DROPPED = new AtomicLong();

    static {
        Thread.ofPlatform().daemon().name("imans-fanotify-log").start(() -> {
            while (true) {
                try {
                    RECORDS.take().run();
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException e) {
                    DROPPED.incrementAndGet();
                }
            }
        });
    }

    private final String what;
    private final AtomicLong count = new AtomicLong();

    QuietLog(String what) {
        this.what = what;
    }

    void log(Level level, String detail, Throwable t) {
        long n = count.incrementAndGet();
        if (n <= 10 || n % 1000 == 0) {
            String text = what + " (" + n + " so far): " + detail;
            if (!RECORDS.offer(() -> LOG.log(level, text, t))) {
                DROPPED.incrementAndGet();
            }
        }
    }

    /** Log records dropped because the log thread fell behind. */
    static long dropped() {
        return DROPPED.get();
    }

    static System.Logger logger() {
        return LOG;
    }
}
