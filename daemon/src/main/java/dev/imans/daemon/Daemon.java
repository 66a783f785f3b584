package dev.imans.daemon;

import dev.imans.daemon.control.ControlMount;
import dev.imans.daemon.control.MeasurementSource;
import dev.imans.daemon.control.SecurityfsOverlay;
import dev.imans.daemon.ns.LivenessWatcher;
import dev.imans.daemon.ns.NamespaceService;
import dev.imans.daemon.ns.PolicyUpdateListener;
import dev.imans.daemon.ns.Proc;
import dev.imans.daemon.state.JournalState;
import dev.imans.daemon.state.StateJournal;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/**
 * The running daemon: the namespace registry restored from the journal, the control filesystem,
 * the liveness watcher. {@link #start} returns once the control filesystem is live;
 * {@link #close} undoes everything in reverse order and may be called from a shutdown hook.
 */
public final class Daemon implements AutoCloseable {
    /** How often namespaces are checked for live processes. */
    static final Duration LIVENESS_PERIOD = Duration.ofMillis(500);

    private final DaemonConfig config;
    private final NamespaceService service;
    private final ControlMount control;
    private final SecurityfsOverlay overlay;
    private final LivenessWatcher watcher;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private boolean closed;

    private Daemon(DaemonConfig config, NamespaceService service, ControlMount control, SecurityfsOverlay overlay,
                   LivenessWatcher watcher) {
        this.config = config;
        this.service = service;
        this.control = control;
        this.overlay = overlay;
        this.watcher = watcher;
    }

    /** Starts a daemon with {@code config}; on failure nothing stays mounted. */
    public static Daemon start(DaemonConfig config, PolicyUpdateListener listener) throws IOException {
        Proc proc = Proc.system();
        StateJournal journal = new StateJournal(config.state());
        JournalState saved = journal.load().orElse(JournalState.empty());
        NamespaceService service = new NamespaceService(config.appraise(), proc, journal, listener,
                proc.ownMountNamespace());
        Log.info("starting: control " + config.control() + ", state " + journal.file() + ", appraise "
                + config.appraise());
        service.restore(saved);
        ControlMount control = null;
        SecurityfsOverlay overlay = null;
        try {
            control = ControlMount.mount(config.control(), service, MeasurementSource.NONE, proc);
            if (config.mountSecurityfs()) {
                overlay = SecurityfsOverlay.install(DaemonConfig.SECURITYFS, config.control(),
                        config.control().resolveSibling("securityfs-staging"));
            }
        } catch (IOException | RuntimeException e) {
            if (control != null) {
                try {
                    control.close();
                } catch (IOException ce) {
                    Log.error(ce.getMessage());
                }
            }
            service.releaseAll();
            throw e;
        }
        LivenessWatcher watcher = new LivenessWatcher(service, proc, LIVENESS_PERIOD);
        watcher.start();
        Log.info("ready: " + config.control().resolve("namespaces"));
        return new Daemon(config, service, control, overlay, watcher);
    }

    public DaemonConfig config() {
        return config;
    }

    /** Blocks until {@link #close} has finished. */
    public void awaitStop() throws InterruptedException {
        stopped.await();
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        Log.info("stopping");
        watcher.close();
        if (overlay != null) {
            overlay.close();
        }
        try {
            control.close();
        } catch (IOException e) {
            Log.error(e.getMessage());
        }
        service.releaseAll();
        Log.info("stopped");
        stopped.countDown();
    }
}
