package dev.imans.daemon.fanotify;

import java.lang.System.Logger.Level;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A log for things that can happen once per event (decider failures, overload): the first ten are
 * logged, then one in a thousand with the running count, so a storm cannot turn into a logging storm.
 * Always called after the answer was written.
 */
final class QuietLog {
    private static final System.Logger LOG = System.getLogger("dev.imans.daemon.fanotify");
    private final String what;
    private final AtomicLong count = new AtomicLong();

    QuietLog(String what) {
        this.what = what;
    }

    void log(Level level, String detail, Throwable t) {
        long n = count.incrementAndGet();
        if (n <= 10 || n % 1000 == 0) {
            LOG.log(level, what + " (" + n + " so far): " + detail, t);
        }
    }

    static System.Logger logger() {
        return LOG;
    }
}
