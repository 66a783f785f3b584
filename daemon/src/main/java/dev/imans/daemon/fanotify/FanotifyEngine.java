package dev.imans.daemon.fanotify;

import dev.imans.daemon.health.Condition;
import dev.imans.daemon.health.Health;
import dev.imans.linux.Errno;
import dev.imans.linux.EventFd;
import dev.imans.linux.Fanotify;
import dev.imans.linux.FanotifyGroup;
import dev.imans.linux.FanotifyResponder;
import dev.imans.linux.Fd;
import dev.imans.linux.LinuxException;
import dev.imans.linux.Signals;
import dev.imans.linux.Stat;
import dev.imans.linux.Unistd;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The permission-event engine: a fanotify permission group served by a {@link PermissionReader}, a
 * pool of {@link DecisionWorkers}, the {@link IgnoreMarks} cache and a {@link ModificationWatcher}
 * that invalidates it. Generic over the {@link Decider}.
 *
 * <p>Every permission event is answered exactly once: by the decider's verdict, by the failure policy
 * (decider error, overload), or ALLOW at shutdown. {@link #close()} answers everything pending with
 * ALLOW and then releases the group, so no opener is ever left waiting on a stopped engine (the kernel's
 * own rule when a listener dies is the same: fail open).
 *
 * <p>Overlayfs: an engine serves either filesystems or overlays ({@link Role}). An open through an
 * overlay raises an event on the overlay's inode, then one on its layer's filesystem for the backing file
 * overlayfs opens; one reader serving both deadlocks inside read(2) (the kernel opens the overlay file
 * for the event, which opens the backing file, which waits for an answer from the same reader). So
 * overlays get an engine of their own, and a filesystems engine silences the private mounts the backing
 * opens go through ({@link BackingMounts}).
 */
public final class FanotifyEngine implements AutoCloseable {
    private static final System.Logger LOG = QuietLog.logger();
    private static final long PERM_MASK = Fanotify.FAN_OPEN_PERM | Fanotify.FAN_OPEN_EXEC_PERM;

    private final EngineConfig config;
    private final FanotifyGroup permissions;
    private final FanotifyGroup modifications;
    private final FanotifyGroup attributes;
    private final EngineMetrics metrics = new EngineMetrics();
    private final IgnoreMarks ignoreMarks;
    private final DecisionWorkers workers;
    private final PermissionReader reader;
    private final EventFd readerWake;
    private final EventFd watcherWake;
    private final Fd devNull;
    private final Thread readerThread;
    private final Marker marker;
    private final Thread markerThread;
    private volatile Thread watcherThread;
    private final ModificationListener listener;
    private final Health health;
    /** The running watcher, for the watchdog: replaced when the watcher is restarted. */
    private volatile ModificationWatcher watcher;
    /** A watcher busy longer than this is behind ({@link #watchdog}). */
    static final Duration STALL = Duration.ofSeconds(2);
    /**
     * More events than this waiting (FIONREAD: bytes of queued events, 24 per event here) is behind too:
     * more than one batch read takes, about 2,700 events or some 10 ms of the watcher's work. The state
     * clears below a quarter of it.
     */
    static final int BACKLOG_BYTES = 64 * 1024;
    private static final long WATCHDOG_PERIOD_MILLIS = 250;
    private final Thread watchdogThread = Thread.ofPlatform().name("imans-watcher-watchdog").daemon()
            .unstarted(this::watchdog);

    /** Run by the watcher before each batch: tests make it throw to stop the watcher, or hold it. */
    volatile Runnable watcherFault = () -> { };
    /** The notification group's events, read by the watcher and by deciding threads that catch up. */
    private final Modifications modificationEvents;
    /** Each deciding thread's buffers for {@link #catchUpModifications}, made on that thread (its arena is confined). */
    private final ThreadLocal<Modifications.Buffers> catchUpBuffers =
            ThreadLocal.withInitial(() -> new Modifications.Buffers(16 * 1024));
    private final Map<Path, Marked> marked = new ConcurrentHashMap<>();
    /** Filesystems watched for writes and attribute changes only ({@link #watchModifications}). */
    private final java.util.Set<Path> watched = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    private final Role role;

    private record Marked(MarkType type, long permMask) {}

    /** What an engine marks: filesystems other than overlays, or overlays only. */
    public enum Role {
        FILESYSTEMS,
        OVERLAYS
    }

    private FanotifyEngine(Decider decider, EngineConfig config, ModificationListener listener, Health health,
            Role role) throws LinuxException {
        this.role = role;
        this.config = config;
        this.listener = listener;
        this.health = health;
        Fanotify.unavailabilityReason().ifPresent(why -> {
            throw new IllegalStateException("fanotify permission events unavailable: " + why);
        });
        // The modification watcher's lease probe can be broken by any writer, and a broken lease sends
        // SIGIO, whose default action would kill the daemon (and with it, enforcement).
        Signals.ignore(Signals.SIGIO);
        this.devNull = Fd.open(Path.of("/dev/null"), Fd.O_WRONLY);
        this.permissions = FanotifyGroup.openPermissionGroup(config.reportPidfd());
        this.modifications = FanotifyGroup.openNotificationGroup();
        this.attributes = FanotifyGroup.openFidNotificationGroup();
        this.readerWake = EventFd.create();
        this.watcherWake = EventFd.create();
        Reply reply = new Reply(permissions, metrics);
        this.ignoreMarks = new IgnoreMarks(permissions, modifications, attributes, role == Role.FILESYSTEMS, metrics,
                health);
        this.modificationEvents = new Modifications(modifications, ignoreMarks, listener, metrics);
        this.workers = new DecisionWorkers(decider, reply, metrics, config);
        this.marker = new Marker(decider, metrics);
        this.reader = new PermissionReader(permissions, readerWake, decider, workers, reply, metrics, config,
                Unistd.getpid(), this::failOpen,
                role == Role.FILESYSTEMS ? new BackingMounts(permissions, metrics) : null, marker);
        // Touch what the reader will need before it holds any event: logging and the failure paths load
        // classes and may read configuration files.
        LOG.isLoggable(Level.DEBUG);
        QuietLog.dropped();
        Fanotify.maskName(PERM_MASK);
        new Errno(Errno.EPERM).name();
        Signals.isThreadOf(Unistd.getpid(), Unistd.getpid());
        this.readerThread = Thread.ofPlatform().name("imans-fanotify-reader").daemon().unstarted(reader);
        this.markerThread = Thread.ofPlatform().name("imans-fanotify-marker").daemon().unstarted(marker);
        this.watcherThread = watcherThread();
    }

    private Thread watcherThread() {
        AttributeChanges changes = new AttributeChanges(attributes, ignoreMarks, listener, metrics, this::reachable);
        ModificationWatcher watcher = new ModificationWatcher(modificationEvents, watcherWake, changes,
                this::watcherStopped, () -> watcherFault.run());
        this.watcher = watcher;
        return Thread.ofPlatform().name("imans-fanotify-modifications").daemon().unstarted(watcher);
    }

    /**
     * The watcher stopped on its own: writes no longer drop ignore marks, so none may stay or be added
     * (the state suspends them before the flush, so a mark being added now is removed by its adder).
     * Retried by restarting the watcher.
     */
    private void watcherStopped(Throwable why) {
        if (closed) {
            return;
        }
        health.degrade(Condition.MODIFICATION_WATCHER_DOWN, "", "modification watcher stopped: " + why,
                Optional.of(this::restartWatcher));
        forgetUnwatched();
    }

    /**
     * After a state that suspends new marks is entered: what the watcher no longer guards goes, the
     * cache's verdicts and the ignore marks (a flush that fails is a state of its own, retried).
     */
    private void forgetUnwatched() {
        listener.lostTrack();
        try {
            ignoreMarks.flush();
        } catch (LinuxException e) {
            health.degrade(Condition.IGNORE_MARKS_STALE, "", "cannot flush ignore marks: " + e.getMessage(),
                    Optional.of(ignoreMarks::flush));
        }
    }

    /**
     * Watches the watcher: one that stays inside a batch longer than {@link #STALL} (a path walk waiting
     * on a FUSE server that never answers, through a namespace's mounts), or has more than
     * {@link #BACKLOG_BYTES} of events waiting (a process that opens ignore-marked files or writes fast
     * enough to keep it behind), leaves the ignore marks standing longer than a batch after a write
     * through a shared mapping. That is a degraded state, as a watcher that stopped: the marks are
     * dropped (after the state suspends new ones) and the cache forgets, so every open is judged (and
     * reads the pending writes itself first, {@link #catchUpModifications}) until the watcher has caught
     * up; the state's retry clears it then.
     */
    private void watchdog() {
        String subject = role.name().toLowerCase(java.util.Locale.ROOT);
        while (!closed) {
            try {
                Thread.sleep(WATCHDOG_PERIOD_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
            if (closed || health.isDegraded(Condition.MODIFICATION_WATCHER_BEHIND, subject)) {
                continue;
            }
            String why = behind(BACKLOG_BYTES);
            if (why == null) {
                continue;
            }
            health.degrade(Condition.MODIFICATION_WATCHER_BEHIND, subject, "the " + subject
                    + " engine's modification watcher " + why + ": writers' opens and closes are read late",
                    Optional.of(() -> {
                        String still = behind(BACKLOG_BYTES / 4);
                        if (still != null) {
                            throw new IllegalStateException("still " + still);
                        }
                    }));
            forgetUnwatched();
        }
    }

    /**
     * Why the watcher is behind (busy past {@link #STALL}, or more than {@code bytes} of events waiting),
     * or null. A queue that cannot be measured is not taken for one that is behind: the watcher reading
     * the same group would stop, which is a state of its own.
     */
    private String behind(int bytes) {
        ModificationWatcher w = watcher;
        if (w != null && w.busyFor(System.nanoTime()) > STALL.toNanos()) {
            return "has been in one batch for over " + STALL.toSeconds() + " s";
        }
        try {
            int waiting = modifications.queuedBytes();
            return waiting > bytes ? "has " + waiting / 1024 + " KiB of events waiting" : null;
        } catch (LinuxException e) {
            return null;
        }
    }

    /** Starts a new watcher on the same group (its queued events are kept); fails if it stops at once. */
    private synchronized void restartWatcher() throws InterruptedException {
        if (closed) {
            return;
        }
        Thread t = watcherThread();
        watcherThread = t;
        t.start();
        if (t.join(Duration.ofMillis(200))) {
            throw new IllegalStateException("the restarted modification watcher stopped again");
        }
        // Modifications made while no watcher ran were dropped from no cache.
        listener.lostTrack();
    }

    /**
     * Reads and handles, on the calling thread, every write and writable open this engine's notification
     * group holds now (what the watcher would do at its next batch): when it returns, caches have
     * forgotten every file written before the call, and ignore marks of those files are gone. Never
     * throws; waits at most for the watcher's batch under way.
     */
    public void catchUpModifications() {
        modificationEvents.catchUp(catchUpBuffers.get());
    }

    /**
     * For tests: {@code hook} runs on the marker thread before each answer's after-work (its ignore
     * mark), so a test can change a file between its answer and its mark.
     */
    public void markerHook(Runnable hook) {
        marker.hook = hook;
    }

    /** Whether events name the opening thread (FAN_REPORT_TID) rather than its thread group. */
    public boolean reportsThreadIds() {
        return permissions.reportsTid();
    }

    /**
     * For tests: {@code hook} runs on the watcher thread before each of its batches, so a test can hold
     * the watcher there and show that a decision does not depend on its timing.
     */
    public void watcherHook(Runnable hook) {
        watcherFault = hook;
    }

    /** Opens the groups and starts the reader, the workers and the watcher; nothing is marked yet. */
    public static FanotifyEngine start(Decider decider, EngineConfig config, ModificationListener listener)
            throws LinuxException {
        return start(decider, config, listener, new Health());
    }

    /** As {@link #start(Decider, EngineConfig, ModificationListener)}, reporting degraded states to {@code health}. */
    public static FanotifyEngine start(Decider decider, EngineConfig config, ModificationListener listener,
            Health health) throws LinuxException {
        return start(decider, config, listener, health, Role.FILESYSTEMS);
    }

    /** As {@link #start(Decider, EngineConfig, ModificationListener, Health)}, for the filesystems {@code role} names. */
    public static FanotifyEngine start(Decider decider, EngineConfig config, ModificationListener listener,
            Health health, Role role) throws LinuxException {
        FanotifyEngine e = new FanotifyEngine(decider, config, listener, health, role);
        e.markerThread.start();
        e.readerThread.start();
        e.watcherThread.start();
        e.watchdogThread.start();
        if (!e.permissions.reportsPidfd() && config.reportPidfd()) {
            LOG.log(Level.INFO, "kernel has no FAN_REPORT_PIDFD (5.15+): events carry pids only");
        }
        return e;
    }

    /**
     * Starts watching opens and execs of files on the filesystem that holds {@code path}: a
     * FAN_MARK_FILESYSTEM mark for FAN_OPEN_PERM|FAN_OPEN_EXEC_PERM, and the matching modification mark.
     * Falls back (with a loud warning) to a mount mark where the kernel refuses filesystem marks, and to
     * FAN_OPEN_PERM alone where it has no FAN_OPEN_EXEC_PERM (before 5.0).
     *
     * @throws IllegalArgumentException for an overlayfs mount in a filesystems engine, or anything else
     *     in an overlays engine (one reader serving both deadlocks)
     */
    public synchronized MarkType markFilesystem(Path path) throws LinuxException {
        ensureOpen();
        boolean overlay = Stat.statfs(path).isOverlay();
        if (overlay != (role == Role.OVERLAYS)) {
            throw new IllegalArgumentException(path + (overlay ? " is an overlayfs mount: it needs an overlays engine"
                    : " is not an overlayfs mount: an overlays engine marks nothing else")
                    + " (one reader serving an overlay and its layers deadlocks)");
        }
        LinuxException last = null;
        for (MarkType type : MarkType.values()) {
            for (long mask : new long[] {PERM_MASK, Fanotify.FAN_OPEN_PERM}) {
                try {
                    permissions.add(flag(type), mask, path);
                } catch (LinuxException e) {
                    if (e.errnoValue() != Errno.EINVAL) {
                        throw e;
                    }
                    last = e;
                    continue;
                }
                try {
                    modifications.add(flag(type), config.modifyMask(), path);
                } catch (LinuxException e) {
                    permissions.remove(flag(type), mask, path);
                    throw e;
                }
                if (type == MarkType.MOUNT) {
                    LOG.log(Level.WARNING, "kernel refused a filesystem mark on " + path + "; using a mount mark:"
                            + " opens through other mounts of it, and from other mount namespaces, are NOT checked");
                }
                if (mask != PERM_MASK) {
                    LOG.log(Level.WARNING, "kernel has no FAN_OPEN_EXEC_PERM; execs on " + path
                            + " are checked as plain opens");
                }
                marked.put(path, new Marked(type, mask));
                return type;
            }
        }
        throw last;
    }

    /**
     * Reports writes on the filesystem that holds {@code path} to the modification listener, without
     * permission events: for an overlays engine, the filesystems of its overlays' layers.
     */
    public synchronized void watchModifications(Path path) throws LinuxException {
        ensureOpen();
        modifications.add(Fanotify.FAN_MARK_FILESYSTEM, config.modifyMask(), path);
        // Owner, mode and label changes too: overlay inodes cannot carry the per-file attribute watch.
        attributes.add(Fanotify.FAN_MARK_FILESYSTEM, Fanotify.FAN_ATTRIB, path);
        watched.add(path);
    }

    /** Forgets watched paths not in {@code current} (their filesystems' marks went with them or stay harmless). */
    public void retainWatched(java.util.Collection<Path> current) {
        watched.retainAll(current);
    }

    /** The paths the attribute watcher reaches files through: what is marked or watched. */
    private java.util.Collection<Path> reachable() {
        java.util.List<Path> out = new java.util.ArrayList<>(marked.keySet());
        out.addAll(watched);
        return out;
    }

    /** Stops watching the filesystem marked through {@code path}; false if it was not marked here. */
    public synchronized boolean unmarkFilesystem(Path path) throws LinuxException {
        ensureOpen();
        Marked m = marked.remove(path);
        if (m == null) {
            return false;
        }
        permissions.remove(flag(m.type()), m.permMask(), path);
        modifications.remove(flag(m.type()), config.modifyMask(), path);
        return true;
    }

    /**
     * Puts an ignore mark on the event's file so the kernel stops asking about it until it is modified
     * (see {@link IgnoreMarks}). Call from {@link Decider#decide} or {@link Decider#decideDeferred}, for an
     * ALLOW that holds in every namespace. 0 or the errno; never throws.
     */
    public int ignoreUntilModified(PermissionEvent event) {
        return ignoreMarks.add(event.fd());
    }

    /**
     * Where the layer directories of the overlays the overlays engine marks are found (as this daemon
     * reaches them): the private mounts overlayfs opens their files through are silenced here.
     */
    public void overlayLayers(java.util.function.Supplier<java.util.Collection<Path>> layers) {
        if (reader.backing() != null) {
            reader.backing().layers(layers);
        }
    }

    /** Drops every ignore mark: call whenever policy or keys change. */
    public void flushIgnoreMarks() throws LinuxException {
        ignoreMarks.flush();
    }

    public EngineMetrics metrics() {
        return metrics;
    }

    /** The filesystems marked now, by the path they were marked through, with the kind of mark. */
    public Map<Path, MarkType> marked() {
        Map<Path, MarkType> out = new java.util.TreeMap<>();
        marked.forEach((p, m) -> out.put(p, m.type()));
        return out;
    }

    /** Whether events carry the opener's pidfd. */
    public boolean reportsPidfd() {
        return permissions.reportsPidfd();
    }

    /** The reader thread's id (for allocation measurements). */
    long readerThreadId() {
        return readerThread.threadId();
    }

    /** Why the reader stopped on its own (then the group was released: fail open), if it did. */
    public Throwable readerFailure() {
        return reader.failure();
    }

    /**
     * Stops: wakes the reader and waits for it (up to the shutdown timeout), stops the workers and
     * answers their pending events ALLOW, releases the group (the kernel allows whatever is still queued
     * or held by a stuck thread), stops the watcher, then closes what is no longer in use. A reader or
     * worker stuck in the decider keeps its thread; its late answer goes to /dev/null.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        watchdogThread.interrupt();
        long deadline = System.nanoTime() + config.shutdownTimeout().toNanos();
        boolean readerDone = stopThread(readerThread, readerWake, deadline);
        // After the reader: nothing is offered to the marker any more. Its work uses the groups, which
        // stay open until it is done or left behind.
        marker.stop(markerThread);
        boolean markerDone = joinQuietly(markerThread, deadline);
        marker.drop();
        try (FanotifyResponder responder = new FanotifyResponder()) {
            workers.shutdown(responder);
        }
        failOpen();
        boolean watcherDone = stopThread(watcherThread, watcherWake, deadline);
        boolean workersDone;
        try {
            workersDone = workers.awaitTermination(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            workersDone = false;
        }
        if (watcherDone) {
            modifications.close();
            attributes.close();
            watcherWake.close();
        }
        if (readerDone && workersDone && markerDone) {
            permissions.close();
            readerWake.close();
            devNull.close();
            if (reader.backing() != null) {
                reader.backing().close();
            }
        } else {
            LOG.log(Level.WARNING, "a decider did not return within " + config.shutdownTimeout()
                    + "; its thread is left behind and its answer will be discarded");
        }
    }

    private void failOpen() {
        try {
            permissions.release(devNull.value());
        } catch (LinuxException e) {
            LOG.log(Level.ERROR, "could not release the fanotify group; closing it", e);
            permissions.close();
        }
    }

    private static boolean stopThread(Thread t, EventFd wake, long deadline) {
        try {
            wake.signal();
        } catch (LinuxException e) {
            LOG.log(Level.ERROR, "could not wake " + t.getName(), e);
            return false;
        }
        return joinQuietly(t, deadline);
    }

    private static boolean joinQuietly(Thread t, long deadline) {
        try {
            return t.join(Duration.ofMillis(Math.max(1, (deadline - System.nanoTime()) / 1_000_000)));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static int flag(MarkType type) {
        return type == MarkType.FILESYSTEM ? Fanotify.FAN_MARK_FILESYSTEM : Fanotify.FAN_MARK_MOUNT;
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("engine stopped");
        }
    }
}
