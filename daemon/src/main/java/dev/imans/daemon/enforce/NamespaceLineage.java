package dev.imans.daemon.enforce;

import dev.imans.daemon.Log;
import dev.imans.daemon.ns.DerivedNamespaces;
import dev.imans.daemon.ns.NsfsPin;
import dev.imans.linux.LinuxException;
import dev.imans.linux.MountInfo;
import dev.imans.linux.Mounts;
import dev.imans.linux.Proc;
import dev.imans.linux.ProcStatus;
import dev.imans.ns.NamespaceId;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Which registered namespaces an unregistered mount namespace descends from, so that a process under a
 * namespace's policy cannot shed it with {@code unshare -m} (or {@code unshare -U -r -m}): a descendant
 * is judged by the host policy and by the policy of every registered namespace it descends from (their
 * policies as they are now, their modes, their measurement lists).
 *
 * <p>Mount namespaces have no parent the kernel would show, so descent is read from two signals when a
 * namespace is first seen (the first permission event from it, or the liveness scan, whichever comes
 * first), and the answer is kept for the namespace's life:
 *
 * <ul>
 *   <li><b>ancestry</b>: the opener's parent chain ({@code PPid} in {@code /proc/PID/status}) is walked
 *       up to the first process in a registered (or known descendant) namespace, stopping at the host's
 *       namespace or pid 1. This covers a namespace made by any process of a container whose init lives
 *       in it, including an orphan, which the kernel reparents to that init (or to the nearest
 *       subreaper of its pid namespace).</li>
 *   <li><b>mounts</b>: a new mount namespace starts as a copy of its creator's mount table, so a
 *       namespace whose table holds a filesystem that only a registered namespace has (a superblock in
 *       its table and not in the host's, as the mount tracker last saw them: its tmpfs, its procfs, its
 *       {@code /dev}) was copied from it, provided that one was seen (registered or learned) first: sharing
 *       a filesystem alone does not say which was copied from which. Every namespace that has a process
 *       when a namespace is registered counts as seen before it: a runtime's namespace that mounted a
 *       container's root, from which the container's namespace was copied, is not the container's child. This covers what ancestry misses: a process that entered the
 *       registered namespace with {@code setns} (so its parent is on the host, as with
 *       {@code nsenter} or a runtime's {@code exec}) and then unshared, and an orphan adopted by a
 *       subreaper on the host.</li>
 * </ul>
 *
 * <p>The cgroup is not used as a third signal: it is not a boundary of a mount namespace (a runtime's
 * {@code exec} joins the container's cgroup from the host, and in plain {@code unshare -m} setups host
 * shells share the cgroup of the namespaces they start), so it would tie host namespaces to containers;
 * the two signals above already cover the orphan it would catch.
 *
 * <p>A registered namespace is learned likewise when the mount tracker first reads it: one made inside
 * another registered namespace keeps that one's policy on top of its own.
 *
 * <p>Either signal suffices (the union of the namespaces they name judges); a namespace neither signal ties
 * to a registered one is judged by the host policy alone, as before. The host's own namespace never
 * walks. Every answer, positive or not, is cached per nsfs inode and the namespace pinned by an open
 * nsfs descriptor, so its inode number cannot be given to another namespace while the answer is held;
 * answers are dropped when no process lives in the namespace any more, and answers that named no
 * registered namespace are dropped on every registration change (they may be wrong now).
 */
public final class NamespaceLineage implements DerivedNamespaces {
    static final long[] NONE = new long[0];
    /** A parent chain longer than this is cut (pid_max bounds it; no real chain is near). */
    private static final int MAX_DEPTH = 512;

    private final long host;
    private final Map<Long, Entry> known = new ConcurrentHashMap<>();
    /**
     * When each registered or known namespace (by nsfs inode, pinned meanwhile) was first seen here: a
     * namespace is only tied to namespaces seen before it. 64-bit mount namespace ids cannot order them:
     * the kernel hands them out in per-CPU batches (linux/cookie.h).
     */
    private final Map<Long, Long> seen = new ConcurrentHashMap<>();
    private long clock;
    /**
     * Namespaces that had processes when a namespace was registered, pinned while they live: they are
     * seen before it ({@link #seen}), so sharing its filesystems does not make them its descendants. A
     * runtime's own namespace (containerd's, when it runs in a mount namespace of its own) holds the
     * container's root before the container's namespace is copied from it.
     */
    private final Map<Long, Preexisting> preexisting = new java.util.HashMap<>();

    /** A namespace that lived before a registration, pinned, with the process it was found through. */
    private record Preexisting(NsfsPin pin, long pid) {}
    /** Superblock -> the registered or descendant namespaces whose tables have it and the host's has not. */
    private volatile Map<Long, long[]> privateDevs = Map.of();
    private volatile Set<Long> lastRegistered = Set.of();
    private boolean closed;
    /** Log lines owed by the event path, written by the liveness thread. */
    private final ConcurrentLinkedQueue<String> pendingLog = new ConcurrentLinkedQueue<>();

    /** One namespace's answer, held with its pin; {@code pid} was a member when it was learned. */
    private record Entry(NsfsPin pin, long[] roots, int pid) {}

    /** @param host the nsfs inode of the host's (the daemon's) mount namespace */
    public NamespaceLineage(long host) {
        this.host = host;
    }

    /**
     * The registered namespaces whose policies judge an open from {@code nsInode} besides the host's and
     * the namespace's own. Costs one map lookup once the namespace is known; the first event from an
     * unknown namespace learns it (a few {@code /proc} reads).
     *
     * @param pid the opener, blocked in its open (so its {@code /proc} entries are its own)
     */
    public long[] rootsOf(long nsInode, int pid, Policies p) {
        // A registered namespace learned when it was registered ({@link #mountsSeen}) is found here too.
        if (nsInode == host || p.namespaces().isEmpty()) {
            return NONE;
        }
        Entry e = known.get(nsInode);
        if (e != null) {
            return e.roots;
        }
        if (p.namespaces().containsKey(nsInode)) {
            return NONE;
        }
        return learn(nsInode, pid, p.namespaces().keySet());
    }

    /** Learns {@code nsInode} through its member {@code pid}; caches the answer when the namespace can be pinned. */
    private synchronized long[] learn(long nsInode, int pid, Set<Long> registered) {
        Entry e = known.get(nsInode);
        if (e != null) {
            return e.roots;
        }
        NsfsPin pin;
        try {
            pin = NsfsPin.pin(pid, new NamespaceId(nsInode));
        } catch (IOException | IllegalArgumentException ex) {
            // Not cached: the next event learns again (the answer still judges this one).
            pin = null;
        }
        // An unregistered namespace is learned when first seen, after everything seen so far.
        long self = seen.getOrDefault(nsInode, Long.MAX_VALUE);
        TreeSet<Long> roots = new TreeSet<>();
        String how = "";
        if (ancestry(nsInode, pid, registered, roots)) {
            how = "ancestry";
        }
        if (mounts(nsInode, self, pid, registered, roots)) {
            how = how.isEmpty() ? "mounts" : how + " and mounts";
        }
        roots.remove(nsInode);
        long[] r = roots.stream().mapToLong(Long::longValue).toArray();
        if (pin == null) {
            return r;
        }
        if (closed) {
            pin.release();
            return r;
        }
        known.put(nsInode, new Entry(pin, r, pid));
        seen.putIfAbsent(nsInode, ++clock);
        if (r.length > 0) {
            pendingLog.add((registered.contains(nsInode) ? "registered namespace " : "namespace ") + nsInode
                    + " descends from registered namespace(s) " + roots + " (by " + how + ", pid " + pid
                    + "): their policies judge it");
            changes.learned(nsInode, r);
        }
        return r;
    }

    /**
     * The registered namespaces {@code inode} stands for: the ones it is known to descend from, and itself
     * if registered.
     */
    private long[] resolve(long inode, Set<Long> registered) {
        Entry e = known.get(inode);
        long[] inherited = e == null ? NONE : e.roots;
        if (!registered.contains(inode)) {
            return inherited;
        }
        long[] out = java.util.Arrays.copyOf(inherited, inherited.length + 1);
        out[inherited.length] = inode;
        return out;
    }

    /** Walks the parent chain of {@code pid} to the first ancestor in a registered or descendant namespace. */
    private boolean ancestry(long self, int pid, Set<Long> registered, Set<Long> roots) {
        int child = pid;
        for (int depth = 0; depth < MAX_DEPTH; depth++) {
            int parent;
            try {
                parent = ppid(child);
            } catch (LinuxException e) {
                return false;
            }
            if (parent <= 0) {
                return false;
            }
            long parentNs;
            try {
                parentNs = namespaceOf(parent);
            } catch (LinuxException e) {
                parentNs = -1;
            }
            // The parent may have exited (and its pid been reused) between the two reads: the child's PPid
            // moves to its new reaper then, so read it again and walk from there.
            try {
                if (ppid(child) != parent) {
                    continue;
                }
            } catch (LinuxException e) {
                return false;
            }
            if (parentNs == -1) {
                // Alive but unreadable (pid 1's links may be closed even to root): the chain ends here.
                return false;
            }
            if (parentNs == host) {
                return false;
            }
            if (parentNs == self) {
                child = parent;
                continue;
            }
            long[] r = resolve(parentNs, registered);
            if (r.length > 0) {
                for (long x : r) {
                    roots.add(x);
                }
                return true;
            }
            child = parent;
        }
        return false;
    }

    /**
     * Adds the namespaces whose private filesystems {@code pid}'s mount table holds and that were seen before
     * {@code nsInode} ({@code self}): sharing a filesystem alone does not say which namespace was copied
     * from which, and a namespace registered (or first seen) later is not taken for an ancestor.
     */
    private boolean mounts(long nsInode, long self, int pid, Set<Long> registered, Set<Long> roots) {
        Map<Long, long[]> devs = privateDevs;
        if (devs.isEmpty()) {
            return false;
        }
        List<MountInfo> table;
        try {
            table = Mounts.read(pid);
        } catch (IOException | IllegalArgumentException e) {
            return false;
        }
        boolean found = false;
        Map<Long, Set<Long>> olderTables = new java.util.HashMap<>();
        for (MountInfo m : table) {
            long[] owners = devs.get(m.dev());
            if (owners == null || heldByOlder(m.dev(), nsInode, self, olderTables)) {
                continue;
            }
            for (long owner : owners) {
                if (owner == nsInode || seen.getOrDefault(owner, Long.MAX_VALUE) >= self) {
                    continue;
                }
                for (long x : resolve(owner, registered)) {
                    if (x != nsInode) {
                        found |= roots.add(x);
                    }
                }
            }
        }
        return found;
    }

    /**
     * Whether a namespace that lived before a registration, other than {@code nsInode}, holds {@code dev}:
     * then holding it does not tell whom {@code nsInode} was copied from (a runtime's namespace holds
     * the root of every container it started, and its later children hold it too). Tables are read once
     * per learning ({@code cache}); one that cannot be read counts as not holding it.
     */
    private boolean heldByOlder(long dev, long nsInode, long self, Map<Long, Set<Long>> cache) {
        for (var en : preexisting.entrySet()) {
            long ns = en.getKey();
            if (ns == nsInode || seen.getOrDefault(ns, Long.MAX_VALUE) >= self) {
                continue;
            }
            Set<Long> devs = cache.computeIfAbsent(ns, k -> {
                Set<Long> out = new HashSet<>();
                int pid = (int) en.getValue().pid();
                try {
                    List<MountInfo> t = Mounts.read(pid);
                    // The pid may have gone to a process of another namespace since it was noted.
                    if (namespaceOf(pid) == ns) {
                        for (MountInfo m : t) {
                            out.add(m.dev());
                        }
                    }
                } catch (IOException | IllegalArgumentException e) {
                    // Its process is gone: nothing known of its table.
                }
                return out;
            });
            if (devs.contains(dev)) {
                return true;
            }
        }
        return false;
    }

    private static int ppid(int pid) throws LinuxException {
        return ProcStatus.parse(Proc.readSmall("/proc/" + pid + "/status")).ppid();
    }

    private static long namespaceOf(int pid) throws LinuxException {
        return NamespaceId.fromLink(Proc.readlink("/proc/" + pid + "/ns/mnt")).inode();
    }

    /**
     * The mount tracker's latest view: for each registered or descendant namespace it read, the
     * superblocks in its table that are not in the host's.
     */
    void mountsSeen(Map<Long, Set<Long>> devsByNamespace, List<NamespaceDirectory.Member> members) {
        Map<Long, Set<Long>> byDev = new java.util.HashMap<>();
        devsByNamespace.forEach((ns, devs) -> devs.forEach(d -> byDev.computeIfAbsent(d, k -> new HashSet<>()).add(ns)));
        Map<Long, long[]> out = new java.util.HashMap<>();
        byDev.forEach((d, owners) -> out.put(d, owners.stream().mapToLong(Long::longValue).sorted().toArray()));
        privateDevs = Map.copyOf(out);
        // A registered namespace made inside another registered one keeps the outer policy on top of its
        // own: registering it must not lift what it was under. Learned here, when the tracker reads a new
        // registration's mounts (before the registration returns), as there is no event to learn it from.
        Set<Long> registered = lastRegistered;
        for (NamespaceDirectory.Member m : members) {
            if (registered.contains(m.nsInode()) && !known.containsKey(m.nsInode())) {
                learn(m.nsInode(), m.pid(), registered);
            }
        }
    }

    /**
     * After a registration change: answers that named no registered namespace may be wrong now and are
     * dropped (learned again at the next event); a namespace no longer registered leaves every answer.
     */
    synchronized void registrationsChanged(Set<Long> registered) {
        if (registered.equals(lastRegistered)) {
            return;
        }
        lastRegistered = Set.copyOf(registered);
        if (registered.stream().anyMatch(ns -> !seen.containsKey(ns))) {
            notePreexisting(registered);
        }
        for (long ns : registered) {
            if (!seen.containsKey(ns)) {
                seen.put(ns, ++clock);
            }
        }
        for (var it = known.entrySet().iterator(); it.hasNext(); ) {
            var en = it.next();
            Entry e = en.getValue();
            long[] kept = java.util.Arrays.stream(e.roots).filter(registered::contains).toArray();
            if (kept.length == 0) {
                it.remove();
                e.pin.release();
            } else if (kept.length != e.roots.length) {
                en.setValue(new Entry(e.pin, kept, e.pid));
            }
        }
        seen.keySet().removeIf(ns -> !registered.contains(ns) && !known.containsKey(ns) && !preexisting.containsKey(ns));
    }

    /**
     * Before a new registration takes its place in {@link #seen}: every namespace with a process now
     * (one {@code /proc} scan) is seen before it. Ancestry still ties such a namespace to the new one if
     * its processes descend from it; only the mounts signal, which cannot tell copier from copy, no
     * longer does. A namespace that cannot be pinned (its process just left) is not noted.
     */
    private void notePreexisting(Set<Long> registered) {
        Map<dev.imans.ns.NamespaceId, Long> members = dev.imans.daemon.ns.Proc.system().census().anyMember();
        for (var m : members.entrySet()) {
            long ns = m.getKey().inode();
            if (ns == host || registered.contains(ns) || seen.containsKey(ns) || known.containsKey(ns)) {
                continue;
            }
            try {
                preexisting.put(ns, new Preexisting(NsfsPin.pin(m.getValue(), m.getKey()), m.getValue()));
            } catch (IOException | IllegalArgumentException e) {
                continue;
            }
            seen.put(ns, ++clock);
        }
    }

    /**
     * Every namespace whose answer is held, with the registered namespaces it descends from (none for a
     * registered namespace made outside every other one).
     */
    public Map<Long, long[]> knownRoots() {
        Map<Long, long[]> out = new java.util.HashMap<>();
        known.forEach((ns, e) -> out.put(ns, e.roots));
        return out;
    }

    /** Told when a descendant is learned or forgotten (the answers {@link #knownRoots} gives change). */
    public interface Changes {
        /**
         * {@code nsInode} descends from the registered namespaces {@code roots}. Called on the event path
         * that learned it, with the lineage locked: keep it to what concerns that one namespace.
         */
        void learned(long nsInode, long[] roots);

        /** Descendants with no process left were forgotten (the liveness thread). */
        void forgotten();

        Changes NONE = new Changes() {
            @Override
            public void learned(long nsInode, long[] roots) {}

            @Override
            public void forgotten() {}
        };
    }

    private volatile Changes changes = Changes.NONE;

    public void onChange(Changes listener) {
        changes = listener;
    }

    /** The known descendants of registered namespaces, each with the pid it was learned through. */
    public Map<Long, Integer> descendants() {
        Map<Long, Integer> out = new java.util.HashMap<>();
        known.forEach((ns, e) -> {
            if (e.roots.length > 0) {
                out.put(ns, e.pid);
            }
        });
        return out;
    }

    /**
     * The liveness scan: forgets namespaces nobody lives in, learns the ones not seen yet (so a
     * descendant's filesystems are marked even before its first event), writes the log lines owed, and
     * names the registered namespaces that live descendants still need.
     */
    @Override
    public Set<NamespaceId> census(Map<NamespaceId, Integer> counts, Map<NamespaceId, Long> anyMember,
                                   Set<NamespaceId> registered) {
        Set<Long> reg = new HashSet<>();
        registered.forEach(id -> reg.add(id.inode()));
        boolean forgot = false;
        synchronized (this) {
            for (var it = preexisting.entrySet().iterator(); it.hasNext(); ) {
                var en = it.next();
                if (counts.getOrDefault(new NamespaceId(en.getKey()), 0) == 0) {
                    it.remove();
                    en.getValue().pin().release();
                    if (!reg.contains(en.getKey()) && !known.containsKey(en.getKey())) {
                        seen.remove(en.getKey());
                    }
                }
            }
            for (var it = known.entrySet().iterator(); it.hasNext(); ) {
                var en = it.next();
                if (counts.getOrDefault(new NamespaceId(en.getKey()), 0) == 0) {
                    it.remove();
                    if (!reg.contains(en.getKey()) && !preexisting.containsKey(en.getKey())) {
                        seen.remove(en.getKey());
                    }
                    en.getValue().pin.release();
                    if (en.getValue().roots.length > 0) {
                        pendingLog.add("namespace " + en.getKey() + " (a descendant) has no process any more: forgotten");
                        forgot = true;
                    }
                }
            }
        }
        if (!reg.isEmpty()) {
            for (var m : anyMember.entrySet()) {
                long ns = m.getKey().inode();
                if (ns != host && !reg.contains(ns) && !known.containsKey(ns)) {
                    learn(ns, m.getValue().intValue(), reg);
                }
            }
        }
        if (forgot) {
            changes.forgotten();
        }
        for (String line; (line = pendingLog.poll()) != null; ) {
            Log.info(line);
        }
        Set<NamespaceId> needed = new TreeSet<>();
        known.forEach((ns, e) -> {
            for (long r : e.roots) {
                needed.add(new NamespaceId(r));
            }
        });
        return needed;
    }

    /** Releases every pin (daemon shutdown). */
    public synchronized void close() {
        closed = true;
        seen.clear();
        preexisting.values().forEach(p -> p.pin().release());
        preexisting.clear();
        known.values().forEach(e -> e.pin.release());
        known.clear();
    }

    @Override
    public String toString() {
        List<String> parts = new ArrayList<>();
        known.forEach((ns, e) -> parts.add(ns + "->" + java.util.Arrays.toString(e.roots)));
        return "lineage " + parts;
    }
}
