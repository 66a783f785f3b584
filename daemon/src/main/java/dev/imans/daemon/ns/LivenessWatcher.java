package dev.imans.daemon.ns;

import dev.imans.daemon.Log;
import java.time.Duration;

/**
 * Unregisters namespaces whose last process has exited.
 *
 * <p>Charter: owns one platform thread that, every {@code period}, scans {@code /proc} once and
 * hands the member counts to {@link NamespaceService#pruneDead}; touches nothing else.
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
        thread = Thread.ofPlatform().name("imans-liveness").daemon(true).unstarted(() -> {
            while (running) {
                try {
                    if (!service.ids().isEmpty()) {
                        service.pruneDead(proc.membersByNamespace());
                    }
                } catch (Exception e) {
                    Log.error("namespace liveness scan failed: " + e.getMessage());
                }
                try {
                    Thread.sleep(period);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
    }

    public void start() {
        thread.start();
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
        try {
            thread.join(Duration.ofSeconds(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
