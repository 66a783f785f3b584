package dev.imans.daemon.ns;

import dev.imans.daemon.Log;
import dev.imans.ns.NamespaceId;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * Unregisters namespaces whose last process has exited.
 *
 * <p>Charter: owns one platform thread that, every {@code period}, scans {@code /proc} once and
 * hands the member counts to {@link DerivedNamespaces#census} and {@link NamespaceService#pruneDead};
 * touches nothing else.
 *
 * <p>Why a periodic scan rather than a pidfd per namespace: a pidfd tells when one chosen member
 * exits, but a mount namespace has no list of members, so finding the next one (or learning there
 * is none) needs the same {@code /proc} scan anyway, and {@code imans ns list} wants live counts.
 * One pass reads one link per process (a few hundred syscalls), cheap at 2 Hz, and it also notices
 * namespaces whose members moved away with {@code setns}.
 */
public final class LivenessWatcher implements AutoCloseable {
    private final Thread thread;
    private volatile boolean running = true;

    public LivenessWatcher(NamespaceService service, Proc proc, Duration period) {
        this(service, proc, period, DerivedNamespaces.NONE);
    }

    /** Also tells {@code derived} what lives, and keeps registered what its live descendants need. */
    public LivenessWatcher(NamespaceService service, Proc proc, Duration period, DerivedNamespaces derived) {
        thread = Thread.ofPlatform().name("imans-liveness").daemon(true).unstarted(() -> {
            while (running) {
                try {
                    List<NamespaceId> registered = service.ids();
                    if (!registered.isEmpty()) {
                        Proc.Census census = proc.census();
                        Set<NamespaceId> needed = derived.census(census.counts(), census.anyMember(),
                                Set.copyOf(registered));
                        service.pruneDead(census.counts(), needed);
                    }
                } catch (Exception e) {
                    Log.error("namespace liveness scan failed: " + e.getMessage());
                }
                try {
                    pause(period);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
    }

    public void start() {
        thread.start();
    }

    private synchronized void pause(Duration period) throws InterruptedException {
        long end = System.nanoTime() + period.toNanos();
        long left;
        while (running && (left = end - System.nanoTime()) > 0) {
            wait(Math.max(1, left / 1_000_000));
        }
    }

    /**
     * Stops after the scan under way, if any: an interrupt would break its journal save off
     * ({@code ClosedByInterruptException}) and leave the namespaces it pruned in the saved state.
     */
    @Override
    public void close() {
        synchronized (this) {
            running = false;
            notifyAll();
        }
        try {
            thread.join(Duration.ofSeconds(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
