package dev.imans.daemon.health;

import dev.imans.daemon.Log;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The daemon's degraded states, each a state rather than a log line: entered with {@link #degrade},
 * left with {@link #recover} (by whoever saw the cause clear) or by its {@link Retry} succeeding.
 * Shown in {@code .imans/health}, by {@code imans status} and in the SIGUSR1 report.
 *
 * <p>Retries run on one platform thread, started when a retryable state is entered and ended when
 * none is left, every {@link #RETRY_PERIOD}. {@link #ignoreMarksSuspended} is read on the permission
 * reader's path: one volatile read.
 */
public final class Health implements AutoCloseable {
    /** How often retryable states are retried. */
    static final Duration RETRY_PERIOD = Duration.ofSeconds(1);

    private record Key(Condition condition, String subject) {}

    private record Entry(Degradation state, Optional<Retry> retry) {}

    private final Map<Key, Entry> active = new LinkedHashMap<>();
    private volatile int suspending;
    private Thread retrier;
    private boolean closed;

    /**
     * Enters (or stays in) {@code condition} for {@code subject}, with {@code cause}; logged once, on
     * entry. A state entered again keeps its first time and takes the newer cause and retry.
     */
    public void degrade(Condition condition, String subject, String cause, Optional<Retry> retry) {
        Key key = new Key(condition, subject);
        boolean entered;
        synchronized (this) {
            Entry old = active.get(key);
            entered = old == null;
            Instant since = entered ? Instant.now() : old.state().since();
            active.put(key, new Entry(new Degradation(condition, subject, since, cause), retry));
            recount();
            if (retry.isPresent()) {
                startRetrier();
            }
        }
        if (entered) {
            Log.error("degraded: " + new Degradation(condition, subject, Instant.now(), cause).line()
                    + (condition.suspendsIgnoreMarks() ? " (no ignore marks until it clears: every open is judged)"
                            : ""));
        }
    }

    public void degrade(Condition condition, String subject, String cause) {
        degrade(condition, subject, cause, Optional.empty());
    }

    /** Leaves {@code condition} for {@code subject}; whether it was active. */
    public boolean recover(Condition condition, String subject) {
        Entry e;
        synchronized (this) {
            e = active.remove(new Key(condition, subject));
            recount();
        }
        if (e != null) {
            Log.info("recovered: " + e.state().line().replaceFirst(" since ", " (degraded since ") + ")");
        }
        return e != null;
    }

    /** Leaves every state of {@code condition} whose subject {@code keep} rejects. */
    public void recoverUnless(Condition condition, java.util.function.Predicate<String> keep) {
        List<String> gone = new ArrayList<>();
        synchronized (this) {
            for (Key k : active.keySet()) {
                if (k.condition() == condition && !keep.test(k.subject())) {
                    gone.add(k.subject());
                }
            }
        }
        gone.forEach(s -> recover(condition, s));
    }

    /** Whether {@code condition} is active for {@code subject}. */
    public synchronized boolean isDegraded(Condition condition, String subject) {
        return active.containsKey(new Key(condition, subject));
    }

    /** Whether any state is active that makes new ignore marks unsafe. */
    public boolean ignoreMarksSuspended() {
        return suspending != 0;
    }

    /** The active states, oldest first. */
    public synchronized List<Degradation> active() {
        return active.values().stream().map(Entry::state).toList();
    }

    /** {@code .imans/health}: {@code ok}, or one line per active state. */
    public String render() {
        List<Degradation> now = active();
        if (now.isEmpty()) {
            return "ok\n";
        }
        StringBuilder b = new StringBuilder();
        now.forEach(d -> b.append(d.line()).append('\n'));
        return b.toString();
    }

    /** Stops retrying (daemon shutdown); the states stay as they are. */
    @Override
    public void close() {
        Thread t;
        synchronized (this) {
            closed = true;
            t = retrier;
            notifyAll();
        }
        if (t != null) {
            try {
                t.join(Duration.ofSeconds(2));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void recount() {
        int n = 0;
        for (Key k : active.keySet()) {
            if (k.condition().suspendsIgnoreMarks()) {
                n++;
            }
        }
        suspending = n;
    }

    private void startRetrier() {
        if (retrier != null || closed) {
            return;
        }
        retrier = Thread.ofPlatform().name("imans-health").daemon().start(this::retryLoop);
    }

    private void retryLoop() {
        try {
            retryUntilClear();
        } finally {
            synchronized (this) {
                if (retrier == Thread.currentThread()) {
                    retrier = null;
                }
            }
        }
    }

    private void retryUntilClear() {
        while (true) {
            List<Map.Entry<Key, Entry>> due;
            synchronized (this) {
                try {
                    wait(RETRY_PERIOD.toMillis());
                } catch (InterruptedException e) {
                    return;
                }
                due = new ArrayList<>();
                for (Map.Entry<Key, Entry> e : active.entrySet()) {
                    if (e.getValue().retry().isPresent()) {
                        due.add(Map.entry(e.getKey(), e.getValue()));
                    }
                }
                if (closed || due.isEmpty()) {
                    retrier = null;
                    return;
                }
            }
            for (Map.Entry<Key, Entry> e : due) {
                retry(e.getKey(), e.getValue());
            }
        }
    }

    private void retry(Key key, Entry entry) {
        try {
            entry.retry().orElseThrow().attempt();
        } catch (Exception ex) {
            synchronized (this) {
                // Keep the newest cause, unless the state was left or replaced meanwhile.
                if (active.get(key) == entry) {
                    Degradation d = entry.state();
                    active.put(key, new Entry(new Degradation(d.condition(), d.subject(), d.since(),
                            String.valueOf(ex.getMessage())), entry.retry()));
                }
            }
            return;
        }
        synchronized (this) {
            if (!active.remove(key, entry)) {
                return;
            }
            recount();
        }
        Log.info("recovered: " + entry.state().line().replaceFirst(" since ", " (degraded since ") + ")");
    }
}
