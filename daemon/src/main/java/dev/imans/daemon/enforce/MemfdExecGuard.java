package dev.imans.daemon.enforce;

import dev.imans.appraise.AppraiseMode;
import dev.imans.audit.InodeRef;
import dev.imans.audit.IntegrityRecord;
import dev.imans.audit.Subject;
import dev.imans.audit.UntrustedString;
import dev.imans.daemon.Log;
import dev.imans.daemon.audit.AuditWriter;
import dev.imans.linux.InternalExecGuard;
import dev.imans.linux.LinuxException;
import dev.imans.linux.Proc;
import dev.imans.policy.Enforceability;
import dev.imans.xattr.AuditCause;
import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Judges programs executed from memfds where fanotify cannot ({@link MemfdFilesystem}), through
 * {@link InternalExecGuard}: for each namespace the daemon knows (the host's, the registered ones and
 * their known descendants) the guard's map says whether its policies refuse such an exec, only audit it,
 * or neither, as the kernel's appraisal would under the scopes that judge the namespace
 * ({@link Policies#judging}). A refused exec is killed before the program runs and audited as the kernel
 * audits an unlabelled file ({@code appraise_data}, {@code missing-hash}).
 *
 * <p>The label of a memfd ({@code security.ima} set with {@code fsetxattr}) is not read: in an enforcing
 * namespace every exec of a memfd is refused, which is stricter than the kernel only for a memfd that
 * carries a valid label. {@code measure} rules are not served: the program is gone before it could be
 * hashed (a gap reported as such).
 */
public final class MemfdExecGuard implements AutoCloseable {
    private final InternalExecGuard guard;
    private final long host;
    private final AuditWriter audit;
    /** What the map holds, by nsfs inode: the daemon's copy, so a sync writes only the changes. */
    private final Map<Long, Integer> installed = new HashMap<>();
    private final Thread reader;
    private final LongAdder refused = new LongAdder();
    private final LongAdder reported = new LongAdder();
    private final LongAdder lost = new LongAdder();

    /**
     * What the guard has done: execs refused (killed), reported (refused, or audited only in log mode),
     * and judged but not reported for want of room in the kernel-side ring (no audit record).
     */
    public record Counts(long refused, long reported, long lost) {
        static final Counts NONE = new Counts(0, 0, 0);
    }

    Counts counts() {
        return new Counts(refused.sum(), reported.sum(), lost.sum());
    }
    private volatile boolean closed;

    private MemfdExecGuard(InternalExecGuard guard, long host, AuditWriter audit, int hostFlags) {
        this.guard = guard;
        this.host = host;
        this.audit = audit;
        installed.put(host, hostFlags);
        this.reader = Thread.ofPlatform().daemon().name("imans-memfd-guard").unstarted(this::readEvents);
    }

    /**
     * Attaches the guard with its map made for {@code policies} and the namespaces {@code known}
     * ({@link #sync}); throws if the kernel does not take the program.
     */
    static MemfdExecGuard start(long host, Policies policies, Map<Long, long[]> known, AuditWriter audit)
            throws IOException {
        int hostFlags = flags(List.of(policies.host()));
        MemfdExecGuard g = new MemfdExecGuard(InternalExecGuard.attach(host, hostFlags), host, audit, hostFlags);
        try {
            g.sync(policies, known);
        } catch (LinuxException | RuntimeException e) {
            g.guard.close();
            throw e;
        }
        g.reader.start();
        return g;
    }

    /**
     * What the guard's map should say for a namespace judged by {@code scopes}: refuse where a scope
     * enforces and may appraise such an exec, audit where one logs. {@code fix} mode allows and the
     * kernel audits nothing (it writes the hash), nor does {@code off}.
     */
    static int flags(List<Scope> scopes) {
        int f = 0;
        for (Scope s : scopes) {
            if ((s.mode() == AppraiseMode.ENFORCE || s.mode() == AppraiseMode.LOG)
                    && Enforceability.mayAppraiseMemfdExec(s.policy())) {
                f |= s.mode() == AppraiseMode.ENFORCE ? InternalExecGuard.TMPFS_REFUSE | InternalExecGuard.TMPFS_AUDIT
                        : InternalExecGuard.TMPFS_AUDIT;
            }
        }
        return f;
    }

    /**
     * Makes the map say what {@code policies} ask of every namespace the daemon knows; {@code known}
     * maps each registered namespace and known descendant to the registered namespaces it descends from.
     * A namespace left out is judged by the kernel-side walk to its nearest ancestor process's entry.
     */
    synchronized void sync(Policies policies, Map<Long, long[]> known) throws LinuxException {
        Map<Long, Integer> want = new HashMap<>();
        want.put(host, flags(List.of(policies.host())));
        for (long ns : policies.namespaces().keySet()) {
            want.put(ns, flags(policies.judging(ns, known.getOrDefault(ns, NamespaceLineage.NONE))));
        }
        known.forEach((ns, roots) -> {
            if (roots.length > 0 && !want.containsKey(ns)) {
                want.put(ns, flags(policies.judging(ns, roots)));
            }
        });
        int strictest = 0;
        for (int f : want.values()) {
            strictest |= f;
        }
        want.put(InternalExecGuard.EXHAUSTED, strictest);
        for (var e : want.entrySet()) {
            Integer had = installed.get(e.getKey());
            if (had == null || had.intValue() != e.getValue()) {
                guard.set(e.getKey(), e.getValue());
                installed.put(e.getKey(), e.getValue());
            }
        }
        for (var it = installed.keySet().iterator(); it.hasNext(); ) {
            long ns = it.next();
            if (!want.containsKey(ns)) {
                guard.remove(ns);
                it.remove();
            }
        }
    }

    /**
     * Gives the descendant {@code nsInode} of the registered namespaces {@code roots} its entry, as
     * {@link #sync} would, without recomputing every other namespace's: called on the event path that
     * learned it.
     */
    synchronized void learned(Policies policies, long nsInode, long[] roots) throws LinuxException {
        int f = flags(policies.judging(nsInode, roots));
        Integer had = installed.get(nsInode);
        if (had == null || had != f) {
            guard.set(nsInode, f);
            installed.put(nsInode, f);
        }
        Integer exhausted = installed.get(InternalExecGuard.EXHAUSTED);
        if (exhausted == null || (exhausted | f) != exhausted) {
            int strictest = (exhausted == null ? 0 : exhausted) | f;
            guard.set(InternalExecGuard.EXHAUSTED, strictest);
            installed.put(InternalExecGuard.EXHAUSTED, strictest);
        }
    }

    private void readEvents() {
        long lostSeen = 0;
        while (!closed) {
            try {
                guard.poll(250, this::report);
                long l = guard.lost();
                if (l != lostSeen) {
                    Log.warn("memfd exec guard: " + (l - lostSeen) + " report(s) lost, the ring buffer was full:"
                            + " those execs were judged, but have no audit record");
                    lost.add(l - lostSeen);
                    lostSeen = l;
                }
            } catch (LinuxException | RuntimeException e) {
                if (!closed) {
                    Log.warn("memfd exec guard: cannot read its reports: " + e);
                    try {
                        Thread.sleep(1000);
                    } catch (InterruptedException ie) {
                        return;
                    }
                }
            }
        }
    }

    /** Writes the kernel's record for one reported exec (integrity_audit_msg after a failed appraisal). */
    private void report(InternalExecGuard.Event e) {
        reported.increment();
        if (e.refused()) {
            refused.increment();
        }
        long auid = Subject.UNSET;
        long ses = Subject.UNSET;
        try {
            auid = Proc.loginUid(e.tgid()) & 0xffffffffL;
            ses = Proc.sessionId(e.tgid()) & 0xffffffffL;
        } catch (LinuxException | IllegalArgumentException gone) {
            // Killed already, or a kernel without audit: the unset values stand.
        }
        Subject subject = Subject.of(e.tgid(), Integer.toUnsignedLong(e.uid()), auid, ses, e.comm());
        // ima_d_path of an unlinked shmem file: the name in the kernel's mount, marked deleted.
        UntrustedString name = UntrustedString.of("/" + e.name() + " (deleted)");
        InodeRef inode = InodeRef.of("tmpfs", e.ino());
        audit.submit(IntegrityRecord.appraiseData(subject, AuditCause.MISSING_HASH.text(), name,
                OptionalLong.of(e.openerNs()), inode, false));
    }

    @Override
    public void close() {
        closed = true;
        try {
            reader.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        guard.close();
    }
}
