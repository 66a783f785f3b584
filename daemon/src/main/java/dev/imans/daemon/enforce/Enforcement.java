package dev.imans.daemon.enforce;

import dev.imans.daemon.Log;
import dev.imans.daemon.audit.AuditWriter;
import dev.imans.daemon.fanotify.FanotifyEngine;
import dev.imans.daemon.fanotify.ModificationListener;
import dev.imans.daemon.health.Condition;
import dev.imans.daemon.health.DegradedException;
import dev.imans.daemon.health.Health;
import dev.imans.daemon.fanotify.PermissionEvent;
import dev.imans.linux.Fanotify;
import dev.imans.linux.LinuxException;
import dev.imans.linux.Stat;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * Enforcement as one piece: the fanotify engine with the {@link EnforcementDecider}, the mount tracker
 * that marks every visible filesystem, the integrity cache, re-hash on close, the measurement lists it
 * feeds, and the current policy snapshot. {@link #policiesChanged} must be called after any policy or registration change.
 * {@link #close} answers every waiting opener (ALLOW) before it returns.
 */
public final class Enforcement implements AutoCloseable {
    private final EnforcementConfig config;
    private final PolicySource source;
    private final AuditWriter audit;
    private final Measurements measurements;
    private final IntegrityCache cache = new IntegrityCache();
    private final AuditedFiles audited = new AuditedFiles();
    private final Violations violations = new Violations();
    private volatile EnforcementDecider decider;
    private final FilesystemTable filesystems = new FilesystemTable();
    private final EnforcementMetrics metrics = new EnforcementMetrics();
    private final RehashTracker rehash;
    private final Health health;
    /** Run before each update of the exec guard's map: tests make it throw to simulate a failed update. */
    volatile FlushFault guardFault = () -> { };
    /** Run before each flush of the ignore marks: tests make it throw to simulate a failed flush. */
    volatile FlushFault flushFault = () -> { };
    private final NamespaceLineage lineage;
    private volatile Policies policies;
    /**
     * Orders ignore marks against policy changes: a mark is placed under the read lock, after checking
     * that the verdict's snapshot is still in force (or that what replaced it is stricter nowhere); a
     * policy change installs its snapshot and flushes under the write lock. So no mark of an older
     * verdict can stand once {@link #policiesChanged} returns, whichever thread places it and however
     * late (marks are placed by the engines' marker threads, after the answer).
     */
    private final ReentrantReadWriteLock markGate = new ReentrantReadWriteLock();
    private volatile FanotifyEngine engine;
    /** The overlay mounts' engine: a reader of its own, as one serving an overlay and its layers deadlocks. */
    private volatile FanotifyEngine overlays;
    private MountTracker tracker;
    private MemfdFilesystem.Status memfd = new MemfdFilesystem.Status(false, "not tried");
    /** The huge page sizes whose internal hugetlbfs (MFD_HUGETLB memfds) was marked at start, or could not be. */
    private MemfdFilesystem.Hugetlb hugetlb = MemfdFilesystem.Hugetlb.NONE;
    /** Judges execs of memfds where the filesystem mark was refused; null where it is not attached. */
    private volatile MemfdExecGuard guard;
    private volatile boolean closed;
    /**
     * The inode numbers (without overlayfs's xino high bits) of files the overlays engine has ignore-marked
     * since its last flush: a write to the same number on a layer's filesystem may be a write beneath one.
     */
    private final java.util.Set<Long> overlayMarked = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private static final long XINO_LOW = (1L << 56) - 1;

    interface FlushFault {
        void check() throws LinuxException;
    }

    private Enforcement(EnforcementConfig config, PolicySource source, AuditWriter audit, Measurements measurements,
            Health health, NamespaceLineage lineage) {
        this.health = health;
        this.lineage = lineage;
        this.measurements = measurements;
        this.config = config;
        this.source = source;
        this.audit = audit;
        this.rehash = new RehashTracker(cache, config.hashAlgo());
        this.policies = source.current();
        lineage.registrationsChanged(policies.namespaces().keySet());
        audited.retainNamespaces(policies.namespaces().keySet());
    }

    /**
     * Starts the engine and marks every filesystem visible now (the host's, unless limited to
     * namespaces, and those of the registered namespaces); returns once they are marked.
     */
    public static Enforcement start(EnforcementConfig config, PolicySource source, NamespaceDirectory directory,
            AuditWriter audit) throws LinuxException {
        return start(config, source, directory, audit, Measurements.NONE, new Health());
    }

    /**
     * As {@link #start(EnforcementConfig, PolicySource, NamespaceDirectory, AuditWriter)}, measuring into
     * {@code measurements} and reporting degraded states to {@code health}.
     */
    public static Enforcement start(EnforcementConfig config, PolicySource source, NamespaceDirectory directory,
            AuditWriter audit, Measurements measurements, Health health) throws LinuxException {
        return start(config, source, directory, audit, measurements, health,
                new NamespaceLineage(dev.imans.linux.Namespaces.ownMountNamespaceInode()));
    }

    /**
     * As {@link #start(EnforcementConfig, PolicySource, NamespaceDirectory, AuditWriter, Measurements, Health)},
     * judging namespaces made inside registered ones as {@code lineage} says; {@code directory} should name
     * them too, so their filesystems are marked.
     */
    public static Enforcement start(EnforcementConfig config, PolicySource source, NamespaceDirectory directory,
            AuditWriter audit, Measurements measurements, Health health, NamespaceLineage lineage)
            throws LinuxException {
        Enforcement e = launch(config, source, directory, audit, measurements, health, lineage, false);
        e.warmup = Warmup.start(config, () -> e.closed);
        return e;
    }

    /**
     * The engines and the mount tracker; {@code rehearsal} leaves out what reaches beyond the registered
     * namespaces' mounts (the memfd and hugetlbfs marks, the exec guard), for {@link Rehearsal}'s private
     * instance, which must judge nothing of the host's.
     */
    static Enforcement launch(EnforcementConfig config, PolicySource source, NamespaceDirectory directory,
            AuditWriter audit, Measurements measurements, Health health, NamespaceLineage lineage, boolean rehearsal)
            throws LinuxException {
        Enforcement e = new Enforcement(config, source, audit, measurements, health, lineage);
        EnforcementDecider decider = new EnforcementDecider(e.new Shared(() -> e.engine));
        e.decider = decider;
        e.engine = FanotifyEngine.start(decider, config.engine(), e.new Watcher(), health);
        try {
            e.overlays = FanotifyEngine.start(new EnforcementDecider(e.new Shared(() -> e.overlays)), config.engine(),
                    e.new Watcher(), health, FanotifyEngine.Role.OVERLAYS);
        } catch (LinuxException | RuntimeException ex) {
            e.engine.close();
            throw ex;
        }
        try {
            e.tracker = new MountTracker(e.engine, e.overlays, e.filesystems, directory, config, e.metrics, health, lineage,
                    () -> e.policies, () -> e.flush(Policies.Reach.OVERLAYS));
            e.engine.overlayLayers(e.tracker::layerPaths);
            e.tracker.start();
            if (rehearsal) {
                return e;
            }
            e.memfd = MemfdFilesystem.mark(e.engine, config.fsTypes());
            e.hugetlb = MemfdFilesystem.markHugetlb(e.engine, e.filesystems, config.fsTypes(), health);
            if (!e.memfd.marked() && e.memfd != MemfdFilesystem.Status.NOT_WANTED) {
                e.startGuard();
            }
        } catch (RuntimeException ex) {
            e.overlays.close();
            e.engine.close();
            throw ex;
        }
        return e;
    }

    private Thread warmup;

    private void startGuard() {
        try {
            long host = dev.imans.linux.Namespaces.ownMountNamespaceInode();
            guard = MemfdExecGuard.start(host, policies, lineage.knownRoots(), audit);
            lineage.onChange(new NamespaceLineage.Changes() {
                @Override
                public void learned(long nsInode, long[] roots) {
                    guardLearned(nsInode, roots);
                }

                @Override
                public void forgotten() {
                    syncGuard();
                }
            });
            memfd = memfd.guarded(true, "");
            Log.info("judging execs of memfds with the exec guard (BPF, sched_process_exec)");
        } catch (java.io.IOException | RuntimeException ex) {
            if (guard != null) {
                guard.close();
                guard = null;
            }
            String why = ex instanceof LinuxException le ? le.errno().name() + " (" + ex.getMessage()
                    + ")" : ex.getMessage();
            memfd = memfd.guarded(false, why);
            Log.warn("cannot attach the exec guard: " + why + ": execs of memfds are NOT judged; vm.memfd_noexec=2"
                    + " makes the kernel refuse them (docs/policy.md)");
        }
    }

    /** Gives a newly learned descendant its entry in the exec guard's map; a failure is as for {@link #syncGuard}. */
    private void guardLearned(long nsInode, long[] roots) {
        MemfdExecGuard g = guard;
        if (g == null || closed) {
            return;
        }
        try {
            guardFault.check();
            g.learned(policies, nsInode, roots);
        } catch (LinuxException ex) {
            guardStale(ex);
        }
    }

    /**
     * Brings the exec guard's map to the policies and lineage now; a failure is a degraded state, retried,
     * and the cause of the failing write where there is one.
     */
    private boolean syncGuard() {
        MemfdExecGuard g = guard;
        if (g == null || closed) {
            return true;
        }
        try {
            guardFault.check();
            g.sync(policies, lineage.knownRoots());
            health.recover(Condition.MEMFD_GUARD_STALE, "");
            return true;
        } catch (LinuxException ex) {
            guardStale(ex);
            return false;
        }
    }

    /** The exec guard's map is behind: a degraded state until a full update succeeds (retried). */
    private void guardStale(LinuxException ex) {
        health.degrade(Condition.MEMFD_GUARD_STALE, "", ex.getMessage(), Optional.of(() -> {
            if (!syncGuard()) {
                throw new java.io.IOException("exec guard still not updated");
            }
        }));
    }

    /** Waits for the start's warm-up ({@link Warmup}) to end: for benchmarks that time a fresh daemon. */
    public void awaitWarmup() throws InterruptedException {
        warmup.join();
    }

    /**
     * Installs the policies in force now, drops every ignore mark, and looks for new namespaces' mounts.
     *
     * @throws DegradedException when the marks could not be dropped or a newly seen filesystem could not
     *     be marked: the change is in force, on the slow path or not everywhere (see {@link Health}), and
     *     the write that made it should fail
     */
    public void policiesChanged() {
        if (closed) {
            // Unregistrations arrive while the daemon stops; the group is gone (its fd may be reused).
            return;
        }
        List<String> problems = new ArrayList<>();
        markGate.writeLock().lock();
        try {
            Policies before = policies;
            policies = source.current();
            lineage.registrationsChanged(policies.namespaces().keySet());
            audited.retainNamespaces(policies.namespaces().keySet());
            if (!syncGuard()) {
                problems.add("the exec guard's map (memfd execs) could not be updated");
            }
            // A namespace that ended, or one registered before its policy, leaves every mark right:
            // flushing then would make every container's files cold again at every other container's
            // start and end. Not while marks are suspended (stale marks may stand): the flush is then
            // tried, and told.
            Policies.Reach reach = before == null || health.ignoreMarksSuspended() ? Policies.Reach.ALL
                    : policies.stricterOn(before);
            if (reach.equals(Policies.Reach.NONE)) {
                metrics.flushesSkipped.increment();
            } else if (!flush(reach)) {
                problems.add("ignore marks of the previous policy could not be dropped");
            }
        } finally {
            markGate.writeLock().unlock();
        }
        if (tracker != null) {
            // Synchronously: a namespace's filesystems are marked before its registration (or policy
            // write) returns to the writer, so its very next open is already checked.
            for (String fs : tracker.scan()) {
                problems.add("cannot mark " + fs);
            }
        }
        if (!problems.isEmpty()) {
            throw new DegradedException(String.join("; ", problems));
        }
    }

    /** Makes every later mark of a filesystem reached through a path {@code fails} accepts fail (tests). */
    void injectMarkFault(java.util.function.Predicate<java.nio.file.Path> fails) {
        tracker.markFault = fails;
    }

    /** What the daemon knows of each filesystem and mount (tests). */
    FilesystemTable filesystems() {
        return filesystems;
    }

    /** Marks newly visible filesystems now (tests, after a mount made inside a namespace). */
    public void rescanMounts() {
        tracker.scan();
    }

    /** Whether execs and re-opens of memfds are judged (the kernel's internal tmpfs is marked), and if not why. */
    public MemfdFilesystem.Status memfdFilesystem() {
        return memfd;
    }

    /**
     * The huge page sizes whose internal hugetlbfs (the filesystem of MFD_HUGETLB memfds) was marked at
     * start, or not; a size not marked then is a {@code hugetlbfs-unmarked} health state until a retry
     * marks it.
     */
    public MemfdFilesystem.Hugetlb hugetlb() {
        return hugetlb;
    }

    /** What the exec guard has done with execs of memfds; all 0 without the guard. */
    public MemfdExecGuard.Counts memfdExecs() {
        MemfdExecGuard g = guard;
        return g == null ? MemfdExecGuard.Counts.NONE : g.counts();
    }

    public Policies policies() {
        return policies;
    }

    public EnforcementMetrics metrics() {
        return metrics;
    }

    /** The settings this enforcement runs with. */
    public EnforcementConfig config() {
        return config;
    }

    public IntegrityCache cache() {
        return cache;
    }

    public FanotifyEngine engine() {
        return engine;
    }

    /** The engine of overlay mounts (opens through an overlay are judged there, on the overlay's facts). */
    public FanotifyEngine overlayEngine() {
        return overlays;
    }

    /**
     * Drops every ignore mark; false when it could not, which suspends new marks until a retry
     * succeeds: the marks left may hide files the policy in force now would refuse.
     */
    private boolean flush() {
        return flush(Policies.Reach.ALL);
    }

    /**
     * As {@link #flush()}, for the marks of one engine's files or both's. Only a flush of both ends an
     * {@code ignore-marks-stale} state: the other engine's stale marks would still stand.
     */
    private boolean flush(Policies.Reach reach) {
        if (closed) {
            return true;
        }
        try {
            flushNow(reach);
            if (reach.equals(Policies.Reach.ALL)) {
                health.recover(Condition.IGNORE_MARKS_STALE, "");
            }
            return true;
        } catch (LinuxException ex) {
            health.degrade(Condition.IGNORE_MARKS_STALE, "", "cannot flush ignore marks: " + ex.getMessage(),
                    Optional.of(this::flushNow));
            return false;
        }
    }

    private void flushNow() throws LinuxException {
        flushNow(Policies.Reach.ALL);
    }

    private void flushNow(Policies.Reach reach) throws LinuxException {
        if (closed) {
            return;
        }
        flushFault.check();
        if (reach.filesystems()) {
            engine.flushIgnoreMarks();
        }
        if (reach.overlays()) {
            flushOverlayMarks();
        }
        metrics.flushes.increment();
    }

    /** Cleared first: a mark added between the two is dropped by the flush, one added after is tracked. */
    private void flushOverlayMarks() throws LinuxException {
        overlayMarked.clear();
        overlays.flushIgnoreMarks();
    }

    private void modified(long dev, long ino, long mask) {
        if (tracker != null && tracker.isOverlayLayer(dev) && overlayMarked.contains(ino & XINO_LOW)) {
            // Written beneath an overlay file that may be ignore-marked: the overlay's inode saw no write.
            // Its cached verdict needs nothing (the overlay's stat shows the backing file's new ctime).
            flush(Policies.Reach.OVERLAYS);
        }
        FileKey key = new FileKey(dev, ino);
        cache.forget(key);
        measurements.forget(key);
        if ((mask & Fanotify.FAN_CLOSE_WRITE) != 0) {
            rehash.closedAfterWrite(key);
        }
    }

    /** Stops watching mounts, answers every waiting opener and releases the group, then drops held files. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (tracker != null) {
            tracker.close();
        }
        // Overlays first: their reader's last reads may open backing files the filesystems engine answers.
        if (overlays != null) {
            overlays.close();
        }
        if (engine != null) {
            engine.close();
        }
        rehash.close();
        if (guard != null) {
            guard.close();
        }
        lineage.close();
        // Ends at its next round: nothing of a stopped daemon runs on.
        try {
            if (warmup != null) {
                warmup.join(java.time.Duration.ofSeconds(5));
            }
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
        }
        Log.info("enforcement stopped: " + metrics);
    }

    /** The engine's modification listener. */
    private final class Watcher implements ModificationListener {
        @Override
        public void modified(long dev, long ino, long mask) {
            Enforcement.this.modified(dev, ino, mask);
        }

        @Override
        public boolean wantsOpens() {
            return violations.size() > 0;
        }

        @Override
        public void opened(long dev, long ino, int pid) {
            violations.reader(new FileKey(dev, ino), pid);
        }

        @Override
        public void openedWithWriter(long dev, long ino, int fd, int pid) {
            EnforcementDecider d = decider;
            if (d != null) {
                d.openedWithWriter(new FileKey(dev, ino), fd, pid);
            }
        }

        @Override
        public void lostTrack() {
            // Cached verdicts are per file version, but a write within one timestamp tick leaves the
            // version unchanged: only the watcher's report drops such an entry.
            cache.clear();
        }
    }

    /** What one engine's decider shares with the other's; marks go to the engine that delivered the event. */
    private final class Shared implements EnforcementDecider.Context {
        private final java.util.function.Supplier<FanotifyEngine> own;
        /** One per deciding thread (readers, workers), kept: a buffer made per event is an allocation per event. */
        private final ThreadLocal<Stat.Buffer> stamps = ThreadLocal.withInitial(Stat.Buffer::new);

        Shared(java.util.function.Supplier<FanotifyEngine> own) {
            this.own = own;
        }

        @Override
        public Policies policies() {
            return policies;
        }

        @Override
        public EnforcementConfig config() {
            return config;
        }

        @Override
        public IntegrityCache cache() {
            return cache;
        }

        /** Both engines': an exec through an overlay may follow a write to its layer's filesystem. */
        @Override
        public void catchUpModifications() {
            FanotifyEngine e = engine;
            if (e != null) {
                e.catchUpModifications();
            }
            FanotifyEngine o = overlays;
            if (o != null) {
                o.catchUpModifications();
            }
        }

        @Override
        public RehashTracker rehash() {
            return rehash;
        }

        @Override
        public FilesystemTable filesystems() {
            return filesystems;
        }

        @Override
        public AuditWriter audit() {
            return audit;
        }

        @Override
        public EnforcementMetrics metrics() {
            return metrics;
        }

        @Override
        public Measurements measurements() {
            return measurements;
        }

        @Override
        public NamespaceLineage lineage() {
            return lineage;
        }

        @Override
        public Violations violations() {
            return violations;
        }

        @Override
        public AuditedFiles audited() {
            return audited;
        }

        private void ignore(PermissionEvent event, Policies judgedUnder) {
            FanotifyEngine e = own.get();
            markGate.readLock().lock();
            try {
                // A verdict of a snapshot that a stricter one replaced gets no mark: the change's flush
                // came before this, and a mark now would keep the file unchecked under the new policy.
                Policies now = policies;
                if (now != judgedUnder && !now.stricterOn(judgedUnder).equals(Policies.Reach.NONE)) {
                    metrics.marksOfReplacedPolicies.increment();
                    return;
                }
                if (e == overlays) {
                    if (tracker != null && tracker.overlayLayersUnwatched()) {
                        return;
                    }
                    overlayMarked.add(event.ino() & XINO_LOW);
                }
                if (e.ignoreUntilModified(event) == 0) {
                    metrics.ignoreMarks.increment();
                }
            } finally {
                markGate.readLock().unlock();
            }
            // The tracker records an overlay with unwatched layers, then drops the overlays' marks: a mark
            // added after that drop is seen here.
            if (e == overlays && tracker != null && tracker.overlayLayersUnwatched()) {
                flush(Policies.Reach.OVERLAYS);
            }
        }

        @Override
        public void ignoreChecked(PermissionEvent event, Policies judgedUnder) {
            // The marker places marks after the answer, sometimes well after: a file changed since its
            // event gets none (its verdict is of the old content, and the write's FS_MODIFY, which
            // would have cleared the mark, has passed).
            if (changedSince(event)) {
                metrics.marksOfChangedFiles.increment();
                return;
            }
            ignore(event, judgedUnder);
            // A write that landed between that check and the mark would leave a stale pass: the
            // watcher may have dropped the (not yet existing) mark already. Compare the file again and
            // drop every mark if it moved.
            if (changedSince(event)) {
                flush();
            }
        }

        /** Whether the event's file moved from the stamp it was judged at; if so that version is forgotten. */
        private boolean changedSince(PermissionEvent event) {
            Stat.Buffer st = stamps.get();
            if (st.fstat(event.fd()) == 0 && FileStamp.of(st).equals(FileStamp.of(event))) {
                return false;
            }
            cache.forgetVersion(new FileKey(event.dev(), event.ino()), FileStamp.of(event));
            return true;
        }
    }
}
