package dev.imans.daemon.enforce;

import dev.imans.daemon.Log;
import dev.imans.daemon.fanotify.FanotifyEngine;
import dev.imans.daemon.health.Condition;
import dev.imans.daemon.health.Health;
import dev.imans.linux.Errno;
import dev.imans.linux.Fd;
import dev.imans.linux.FileStat;
import dev.imans.linux.LinuxException;
import dev.imans.linux.MountInfo;
import dev.imans.linux.Mounts;
import dev.imans.linux.Poll;
import dev.imans.linux.Stat;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Agent: the mount tracker, one platform thread that keeps a filesystem mark on every filesystem the
 * host or a registered namespace can see.
 *
 * <p>Owns: the set of marked superblocks (by device number) and one open {@code /proc/PID/mountinfo}
 * per watched namespace. A namespace's mounts are read through a member's mountinfo and marked through
 * {@code /proc/PID/root/<mount point>}, so filesystems mounted only inside it are reached. Changes are
 * seen through poll(2) on those files (POLLPRI after any change of that namespace's mount table,
 * fs/proc_namespace.c mounts_poll) and, as a fallback, a full re-scan every few seconds. Unmounted
 * filesystems lose their marks in the kernel; they are forgotten here at the next scan.
 *
 * <p>A filesystem that cannot be marked is a degraded state ({@link Condition#FILESYSTEM_UNMARKED}) until
 * a later scan marks it or it is gone; every scan retries it.
 *
 * <p>Also tells the {@link NamespaceLineage} which superblocks each namespace it reads has and the host has
 * not: a namespace copied from one of them holds them too.
 *
 * <p>Overlay mounts are marked in the overlays engine, so opens through them are judged on the overlay's
 * facts as the kernel judges them; where an overlay cannot be marked, the filesystems of its layers
 * (lowerdir/upperdir, reached through the same root) are marked instead, and the overlay is reported as
 * unmarked (its opens are judged, but on their layers' facts).
 *
 * <p>Must not: mark what {@link MountFilter} refuses.
 */
final class MountTracker implements AutoCloseable {
    private static final int POLL_MILLIS = 250;
    private static final long RESCAN_NANOS = 5_000_000_000L;

    private final FanotifyEngine engine;
    private final FanotifyEngine overlays;
    private final FilesystemTable table;
    private final NamespaceDirectory directory;
    private final MountFilter filter;
    private final boolean namespacesOnly;
    private final EnforcementMetrics metrics;
    private final Health health;
    /** Paths whose mark fails as if the kernel refused it (tests). */
    volatile Predicate<Path> markFault = p -> false;
    private final NamespaceLineage lineage;
    private final Set<Long> marked = new HashSet<>();
    /** Devices holding layers of marked overlays (read by enforcement on the watcher's thread). */
    private final Set<Long> layerDevs = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** Those the current scan has seen. */
    private final Set<Long> seenLayers = new HashSet<>();
    /** The layer directories of marked overlays, as the daemon reaches them (read by the filesystems reader). */
    private final Set<Path> layerPaths = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final Set<Path> seenLayerPaths = new HashSet<>();
    /**
     * Marked overlays (by device) with a layer whose writes are not watched: while there is one, no
     * overlay file is ignore-marked (read by the overlays reader).
     */
    private final Set<Long> unwatchedOverlays = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** Those the current scan has found so. */
    private final Set<Long> seenUnwatched = new HashSet<>();
    /** Layer filesystems whose writes could not be watched (reported as unmarked until they can). */
    private final Set<Long> watchFailed = new HashSet<>();
    private final Set<Long> failed = new HashSet<>();
    /** Overlay layers found unreachable, each logged once until it is reached or its mount is gone. */
    private final Set<Path> unreachableLayers = new HashSet<>();
    /** The overlay layers the current scan has looked at. */
    private final Set<Path> layersTried = new HashSet<>();
    private final Map<Integer, Fd> watches = new HashMap<>();
    private final SharedFilesystems shared;
    /** The devices the host had mounted at the last full scan. */
    private Set<Long> lastHostDevs = Set.of();
    private final Thread thread;
    private volatile boolean stopping;
    /** Drops the overlays' ignore marks (enforcement's flush: a failure is its degraded state). */
    private final Runnable dropOverlayMarks;

    MountTracker(FanotifyEngine engine, FanotifyEngine overlays, FilesystemTable table, NamespaceDirectory directory, EnforcementConfig config,
            EnforcementMetrics metrics, Health health, NamespaceLineage lineage, Supplier<Policies> policies,
            Runnable dropOverlayMarks) {
        this.dropOverlayMarks = dropOverlayMarks;
        this.health = health;
        this.lineage = lineage;
        this.engine = engine;
        this.overlays = overlays;
        this.table = table;
        this.directory = directory;
        this.filter = new MountFilter(config.fsTypes());
        this.namespacesOnly = config.namespaceFilesystemsOnly();
        this.metrics = metrics;
        this.shared = new SharedFilesystems(table, filter, metrics, policies);
        this.thread = Thread.ofPlatform().name("imans-mounts").daemon().unstarted(this::run);
    }

    /** Marks what is visible now, then keeps watching. */
    void start() {
        scan();
        thread.start();
    }

    /**
     * Re-reads every namespace's mounts now (after a registration), marking what is new and retrying
     * what could not be marked before; the filesystems that failed for the first time in this scan.
     */
    List<String> scan() {
        // The directory is asked before this tracker's lock is taken: a registration calls scan() while
        // holding the registry's lock, and the tracker thread must never hold its own lock while it
        // waits for the registry's.
        return scan(directory.members());
    }

    /** This scan's mounts that cannot be marked through their path, by device: why, for the report. */
    private final Map<Long, String> hiddenThisScan = new HashMap<>();
    /** The host's mount table of this scan, for {@link #underFuse} on host paths. */
    private List<MountInfo> hostMounts = List.of();

    private synchronized List<String> scan(List<NamespaceDirectory.Member> members) {
        List<String> newFailures = new ArrayList<>();
        hiddenThisScan.clear();
        layersTried.clear();
        seenUnwatched.clear();
        seenLayers.clear();
        seenLayerPaths.clear();
        Set<Long> seen = new HashSet<>();
        Map<Long, List<MountInfo>> hostDevs = new HashMap<>();
        List<MountInfo> host;
        try {
            host = Mounts.readSelf();
        } catch (IOException | IllegalArgumentException e) {
            // Nothing new can be marked: the change that asked for this scan is not in force (EIO).
            Log.error("cannot read /proc/self/mountinfo: " + e.getMessage());
            newFailures.add("cannot read /proc/self/mountinfo: " + e.getMessage());
            return newFailures;
        }
        Set<Long> present = new HashSet<>();
        for (MountInfo m : host) {
            table.learn(m);
            hostDevs.computeIfAbsent(m.dev(), d -> new ArrayList<>()).add(m);
        }
        lastHostDevs = Set.copyOf(hostDevs.keySet());
        present.addAll(hostDevs.keySet());
        hostMounts = host;
        if (!namespacesOnly) {
            for (MountInfo m : host) {
                consider(m, "", host, seen, newFailures);
            }
        }
        Map<Long, Set<Long>> privateDevs = new HashMap<>();
        for (NamespaceDirectory.Member member : members) {
            List<MountInfo> mounts;
            try {
                mounts = Mounts.read(member.pid());
            } catch (IOException | IllegalArgumentException e) {
                // A member that left takes nothing with it (the liveness scan picks another); one still
                // there whose mounts cannot be read leaves its namespace's filesystems unknown.
                if (!memberGone("/proc/" + member.pid() + "/root")) {
                    Log.error("cannot read the mounts of namespace " + member.nsInode() + " through pid "
                            + member.pid() + ": " + e.getMessage());
                    newFailures.add("cannot read the mounts of namespace " + member.nsInode() + ": " + e.getMessage());
                }
                continue;
            }
            String root = "/proc/" + member.pid() + "/root";
            Set<Long> own = privateDevs.computeIfAbsent(member.nsInode(), k -> new HashSet<>());
            for (MountInfo m : mounts) {
                table.learn(m);
                present.add(m.dev());
                if (hostDevs.containsKey(m.dev())) {
                    considerHostMounted(m, member.nsInode(), root, mounts, hostDevs, seen, newFailures);
                    continue;
                }
                own.add(m.dev());
                consider(m, root, mounts, seen, newFailures);
            }
        }
        lineage.mountsSeen(privateDevs, members);
        unreachableLayers.retainAll(layersTried);
        for (Long dev : List.copyOf(unwatchedOverlays)) {
            if (!seenUnwatched.contains(dev)) {
                unwatchedOverlays.remove(dev);
                health.recover(Condition.OVERLAY_LAYERS_UNWATCHED, subject(dev));
            }
        }
        marked.retainAll(seen);
        layerDevs.retainAll(seenLayers);
        watchFailed.retainAll(seenLayers);
        layerPaths.retainAll(seenLayerPaths);
        overlays.retainWatched(seenLayerPaths);
        failed.retainAll(seen);
        shared.retain(seen);
        Set<String> still = new HashSet<>();
        failed.forEach(dev -> still.add(subject(dev)));
        hiddenThisScan.forEach((dev, why) -> {
            if (!seen.contains(dev)) {
                still.add(subject(dev));
                health.degrade(Condition.FILESYSTEM_UNMARKED, subject(dev), why
                        + ", and no other mount of it is in reach; its opens are not checked");
            }
        });
        health.recoverUnless(Condition.FILESYSTEM_UNMARKED, still::contains);
        present.addAll(seen);
        table.retain(present);
        syncWatches(members);
        return newFailures;
    }

    /**
     * A namespace's mount of a filesystem the host has mounted too (a container's root, made by the
     * runtime in the host's namespace). Without {@code --namespace-filesystems-only} the host's own scan
     * has marked an overlay's layers through the host's paths (they are named in the mounter's terms, which
     * the namespace's root may not resolve); with it, it is marked when a policy judging the namespace may
     * cover it.
     */
    private void considerHostMounted(MountInfo m, long nsInode, String root, List<MountInfo> all,
            Map<Long, List<MountInfo>> host, Set<Long> seen, List<String> newFailures) {
        if (namespacesOnly) {
            shared.consider(m, nsInode, host, marked, seen, new SharedFilesystems.Outcome() {
                @Override
                public void mark(Path path) throws LinuxException {
                    MountTracker.this.mark(path);
                }

                @Override
                public void marked(long dev, MountInfo h) {
                    markSucceeded(dev);
                    if (isOverlay(h)) {
                        watchLayers(h, "", hostMounts, seen, newFailures);
                    }
                }

                @Override
                public void failed(long dev, String what, Exception e) {
                    markFailed(dev, what, e, newFailures);
                }
            });
        } else if (FilesystemTable.typeName(m.fsType()).equals("overlay")) {
            seen.add(m.dev());
        } else {
            consider(m, root, all, seen, newFailures);
        }
    }

    /** How {@code .imans/health} names a filesystem: its device number, as mountinfo shows it. */
    static String subject(long dev) {
        return "dev " + (dev >>> 32) + ":" + (dev & 0xffffffffL);
    }

    private void markFailed(long dev, String what, Exception e, List<String> newFailures) {
        if (failed.add(dev)) {
            newFailures.add(what + " (" + subject(dev) + "): " + e.getMessage());
        }
        health.degrade(Condition.FILESYSTEM_UNMARKED, subject(dev),
                "cannot mark " + what + ": " + e.getMessage() + "; its opens are not checked");
    }

    private void markSucceeded(long dev) {
        if (failed.remove(dev)) {
            health.recover(Condition.FILESYSTEM_UNMARKED, subject(dev));
        }
    }

    private void mark(Path path) throws LinuxException {
        if (markFault.test(path)) {
            throw new LinuxException("fanotify_mark", dev.imans.linux.Errno.ENODEV, path.toString());
        }
        (Stat.statfs(path).isOverlay() ? overlays : engine).markFilesystem(path);
    }

    private void consider(MountInfo m, String root, List<MountInfo> all, Set<Long> seen, List<String> newFailures) {
        PathStat layerStat = p -> {
            if (underFuse(p.toString().substring(root.length()), all)) {
                throw new LinuxException("stat", Errno.EXDEV, p + " (below a FUSE mount: not walked)");
            }
            return reach(p);
        };
        if (!filter.marks(m) && !(isOverlay(m) && filter.marksOverlayOver(layerTypes(table, m, root, layerStat)))) {
            return;
        }
        boolean seenBefore = !seen.add(m.dev());
        // A filesystem that failed before is tried again: every scan retries it.
        Path path = Path.of(root + m.mountPoint());
        if (underFuse(m.mountPoint(), all)) {
            unreachable(m, seenBefore, seen, "cannot mark " + m.fsType() + " " + path + ": its mount point is"
                    + " below a FUSE mount, whose server could hold the daemon's path walk forever");
            return;
        }
        try {
            // A mount point hidden under a later mount resolves to that other filesystem, and one just
            // unmounted to nothing: mark only when the path really leads to this one. Another mount of it
            // will do; if none does, the scan reports it (a descriptor opened into it before it was hidden
            // still reaches its files), and the next scan clears that once it is reached or gone.
            if (!leadsTo(path, m)) {
                unreachable(m, seenBefore, seen, "cannot mark " + m.fsType() + " " + path + ": its mount point"
                        + " leads to another filesystem (hidden under a later mount, or just unmounted)");
                return;
            }
            // Marked again at every scan (the kernel merges it into the existing mark): the kernel gives
            // an unmounted filesystem's device number to the next one, so a number marked before may
            // name a new, unmarked superblock.
            mark(path);
            markSucceeded(m.dev());
            if (isOverlay(m)) {
                watchLayers(m, root, all, seen, newFailures);
            }
            if (!marked.add(m.dev())) {
                return;
            }
            metrics.filesystemsMarked.increment();
            Log.info("enforcing on " + m.fsType() + " " + path + " (dev " + m.major() + ":" + m.minor() + ")");
        } catch (LinuxException e) {
            if (e.errnoValue() == Errno.ENOENT || memberGone(root)) {
                // Unmounted meanwhile, or the namespace's last process left: its number may pass to the
                // next filesystem, which must not inherit this; it is not an unmarkable filesystem.
                seen.remove(m.dev());
                return;
            }
            markFailed(m.dev(), m.fsType() + " " + path, e, newFailures);
            layersInstead(m, root, all, seen, newFailures);
        } catch (IllegalArgumentException e) {
            markFailed(m.dev(), m.fsType() + " " + path, e, newFailures);
            layersInstead(m, root, all, seen, newFailures);
        }
    }

    /**
     * The filesystems of a marked overlay's layers: a write made there, beside the overlay, changes what
     * the overlay shows without a write to the overlay's inode, which would keep an ignore mark of the
     * overlays engine standing. The kernel catches it by the backing inode's version (ima_main.c, 6.8);
     * here the layers' writes are watched (modification marks only, no permission events) and reported
     * as any write, and {@link #isOverlayLayer} tells enforcement which devices they are.
     */
    private void watchLayers(MountInfo m, String root, List<MountInfo> all, Set<Long> seen, List<String> newFailures) {
        List<String> unwatched = new ArrayList<>();
        for (String layer : layers(m.superOptions())) {
            Path path = Path.of(root + layer);
            long dev;
            if (underFuse(layer, all)) {
                // Left unwatched: the overlay then keeps no ignore marks, and every open through it is judged.
                unwatched.add(layer);
                continue;
            }
            try {
                dev = reach(path).dev();
            } catch (LinuxException e) {
                // Unreachable from here (named in another root's terms, or its filesystem moved since
                // the overlay was mounted): said once by reach().
                unwatched.add(layer);
                continue;
            }
            layerPaths.add(path);
            seenLayerPaths.add(path);
            layerDevs.add(dev);
            seenLayers.add(dev);
            try {
                if (!marked.contains(dev) && !Stat.statfs(path).isOverlay()) {
                    overlays.watchModifications(path);
                }
                if (watchFailed.remove(dev)) {
                    markSucceeded(dev);
                }
            } catch (LinuxException | IllegalArgumentException e) {
                // Writes beside the overlay would keep its ignore marks standing: a state, not a line.
                seen.add(dev);
                watchFailed.add(dev);
                markFailed(dev, "writes to the overlay layers' filesystem at " + path, e, newFailures);
                unwatched.add(layer);
            }
        }
        if (!unwatched.isEmpty()) {
            overlayLayersUnwatched(m, unwatched);
        }
    }

    /**
     * A marked overlay some of whose layers' writes are not seen. Added to the set before the marks are
     * dropped: a reader that adds a mark after the drop sees the set when it looks again after its mark.
     */
    private void overlayLayersUnwatched(MountInfo m, List<String> layers) {
        seenUnwatched.add(m.dev());
        if (!unwatchedOverlays.add(m.dev())) {
            return;
        }
        health.degrade(Condition.OVERLAY_LAYERS_UNWATCHED, subject(m.dev()), "writes to the layers "
                + String.join(", ", layers) + " of overlay " + m.mountPoint() + " cannot be watched (not reachable"
                + " from the daemon as its mount options name them): no overlay file is ignore-marked, each open"
                + " of one is judged");
        dropOverlayMarks.run();
    }

    /** Whether some marked overlay has a layer whose writes are not watched (no overlay ignore marks then). */
    boolean overlayLayersUnwatched() {
        return !unwatchedOverlays.isEmpty();
    }

    /** The layer directories of the overlays marked now, as the daemon reaches them. */
    java.util.Collection<Path> layerPaths() {
        return layerPaths;
    }

    /** Whether {@code dev} holds a layer of a marked overlay. */
    boolean isOverlayLayer(long dev) {
        return layerDevs.contains(dev);
    }

    private static boolean isOverlay(MountInfo m) {
        return FilesystemTable.typeName(m.fsType()).equals("overlay");
    }

    /** Stats a path (the tracker's own logs an unreachable layer once). */
    interface PathStat {
        FileStat stat(Path p) throws LinuxException;
    }

    /**
     * The filesystem types of an overlay's layers reached through {@code root}; an unreachable layer counts
     * as {@link MountFilter#UNKNOWN}.
     */
    static Set<String> layerTypes(FilesystemTable table, MountInfo m, String root, PathStat stat) {
        Set<String> out = new HashSet<>();
        for (String layer : layers(m.superOptions())) {
            try {
                out.add(table.lookup(stat.stat(Path.of(root + layer)).dev()).fsName());
            } catch (LinuxException e) {
                out.add(MountFilter.UNKNOWN);
            }
        }
        return out;
    }

    /** Stats an overlay layer; one that cannot be reached is logged once while it lasts. */
    private FileStat reach(Path layer) throws LinuxException {
        layersTried.add(layer);
        try {
            FileStat st = Stat.stat(layer);
            unreachableLayers.remove(layer);
            return st;
        } catch (LinuxException e) {
            // Looked for again at the next scan; said once, not at every scan (a runtime's layers named
            // in terms this root does not resolve would flood the log).
            if (unreachableLayers.add(layer)) {
                Log.warn("cannot reach overlay layer " + layer + ": " + e.getMessage() + " (said once while it lasts)");
            }
            throw e;
        }
    }

    /**
     * An overlay that could not be marked: its opens reach the filesystems of its layers as backing opens,
     * so marking those keeps them judged (on the layers' facts) while the overlay is reported unmarked.
     */
    private void layersInstead(MountInfo m, String root, List<MountInfo> all, Set<Long> seen,
            List<String> newFailures) {
        if (isOverlay(m)) {
            for (String layer : layers(m.superOptions())) {
                if (!underFuse(layer, all)) {
                    markPath(Path.of(root + layer), seen, newFailures);
                }
            }
        }
    }

    /**
     * {@code m} cannot be marked through its path in this scan: reported (with {@code why}) unless
     * another mount of its device is marked, which takes its device back into {@code seen}.
     */
    private void unreachable(MountInfo m, boolean seenBefore, Set<Long> seen, String why) {
        if (!seenBefore) {
            seen.remove(m.dev());
        }
        hiddenThisScan.putIfAbsent(m.dev(), why);
    }

    /** Whether a member's {@code /proc/PID/root} prefix no longer leads anywhere (the host's never goes). */
    private static boolean memberGone(String root) {
        return !root.isEmpty() && !java.nio.file.Files.isDirectory(Path.of(root));
    }

    /**
     * Whether {@code path} (in the terms of the mount table {@code all}) lies below a FUSE mount: a walk
     * to it asks that filesystem's server to look names up (at least where its entries time out at
     * once), and a server that never answers holds the walker for good. FUSE is never marked, and a
     * process that can mount it can already run files nobody judges; a path below it is not walked.
     */
    static boolean underFuse(String path, List<MountInfo> all) {
        for (MountInfo a : all) {
            String type = a.fsType();
            if (!type.equals("fuse") && !type.equals("fuseblk") && !type.startsWith("fuse.")) {
                continue;
            }
            String mp = a.mountPoint();
            if (mp.equals("/") ? !path.equals("/") : path.startsWith(mp) && path.length() > mp.length()
                    && path.charAt(mp.length()) == '/') {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether {@code path} leads to mount {@code m}: by its mount id, which names the mount itself, or
     * by device. btrfs gives each subvolume's files a device number of its own, unlike mountinfo's; the
     * table then also learns that number, so events on the subvolume find the filesystem's names.
     */
    private boolean leadsTo(Path path, MountInfo m) {
        FileStat st;
        try {
            st = Stat.stat(path);
        } catch (LinuxException e) {
            return false;
        }
        if (st.dev() == m.dev()) {
            return true;
        }
        if (st.mountId() != 0 && st.mountId() == m.mountId()) {
            table.alias(st.dev(), m);
            return true;
        }
        return false;
    }

    private void markPath(Path layer, Set<Long> seen, List<String> newFailures) {
        long dev;
        try {
            dev = reach(layer).dev();
        } catch (LinuxException e) {
            return;
        }
        seen.add(dev);
        try {
            if (Stat.statfs(layer).isOverlay()) {
                return;
            }
            mark(layer);
            markSucceeded(dev);
            if (!marked.add(dev)) {
                return;
            }
            metrics.filesystemsMarked.increment();
            Log.info("enforcing on the overlay layers' filesystem at " + layer);
        } catch (LinuxException | IllegalArgumentException e) {
            markFailed(dev, "the overlay layers' filesystem at " + layer, e, newFailures);
        }
    }

    /** The lowerdir (colon-separated, {@code \:} escaped) and upperdir paths of overlay super options. */
    static List<String> layers(String superOptions) {
        List<String> out = new ArrayList<>();
        for (String opt : superOptions.split(",")) {
            if (opt.startsWith("lowerdir=")) {
                for (String dir : opt.substring(9).split("(?<!\\\\):")) {
                    out.add(dir.replace("\\:", ":"));
                }
            } else if (opt.startsWith("upperdir=")) {
                out.add(opt.substring(9));
            }
        }
        return out;
    }

    /**
     * The first thing done when the mount tables of {@code pids} (0: the daemon's own) changed: marks the
     * filesystems among their mounts that are new (no mark yet, not known to the host), reading nothing
     * else, so the time between a mount(2) and its mark, in which opens on the new filesystem go
     * unchecked, is one mountinfo read and the marks. The full scan follows.
     */
    private synchronized void markNew(List<Integer> pids) {
        for (int pid : pids) {
            if (pid == 0 && namespacesOnly) {
                continue;
            }
            List<MountInfo> mounts;
            try {
                mounts = pid == 0 ? Mounts.readSelf() : Mounts.read(pid);
            } catch (IOException | IllegalArgumentException e) {
                continue;
            }
            String root = pid == 0 ? "" : "/proc/" + pid + "/root";
            Set<Long> ignored = new HashSet<>();
            for (MountInfo m : mounts) {
                long dev = m.dev();
                // A filesystem the host also has mounted may be a host filesystem bound in: the full scan
                // decides those (and under --namespace-filesystems-only, whether a policy covers them).
                if (marked.contains(dev) || failed.contains(dev) || pid != 0 && lastHostDevs.contains(dev)) {
                    continue;
                }
                table.learn(m);
                // Failures here are states like any scan's; the full scan that follows retries them.
                consider(m, root, mounts, ignored, new ArrayList<>());
            }
        }
    }

    private void syncWatches(List<NamespaceDirectory.Member> members) {
        Set<Integer> wanted = new HashSet<>();
        wanted.add(0);
        members.forEach(m -> wanted.add(m.pid()));
        watches.entrySet().removeIf(e -> {
            if (!wanted.contains(e.getKey())) {
                e.getValue().close();
                return true;
            }
            return false;
        });
        for (int pid : wanted) {
            if (!watches.containsKey(pid)) {
                try {
                    watches.put(pid, Fd.open(Path.of(pid == 0 ? "/proc/self/mountinfo" : "/proc/" + pid + "/mountinfo"),
                            Fd.O_RDONLY | Fd.O_CLOEXEC));
                } catch (LinuxException e) {
                    // The member exited: the next directory listing names another one.
                }
            }
        }
    }

    private void run() {
        long lastScan = System.nanoTime();
        while (!stopping) {
            boolean changed;
            List<Map.Entry<Integer, Fd>> fds;
            List<Integer> fired = new ArrayList<>();
            synchronized (this) {
                fds = List.copyOf(watches.entrySet());
            }
            try (Poll poll = new Poll(Math.max(1, fds.size()))) {
                for (int i = 0; i < fds.size(); i++) {
                    poll.set(i, fds.get(i).getValue().value(), Poll.POLLPRI | Poll.POLLERR);
                }
                int n = fds.isEmpty() ? 0 : poll.await(POLL_MILLIS);
                if (fds.isEmpty()) {
                    Thread.sleep(POLL_MILLIS);
                }
                for (int i = 0; n > 0 && i < fds.size(); i++) {
                    if ((poll.revents(i) & (Poll.POLLPRI | Poll.POLLERR)) != 0) {
                        fired.add(fds.get(i).getKey());
                    }
                }
                changed = n > 0;
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                changed = true;
            }
            if (stopping) {
                return;
            }
            if (!fired.isEmpty()) {
                try {
                    markNew(fired);
                } catch (RuntimeException e) {
                    Log.error("mount scan failed: " + e);
                }
            }
            boolean members = !memberPids().equals(watchedPids());
            if (changed || members || System.nanoTime() - lastScan > RESCAN_NANOS) {
                try {
                    scan();
                } catch (RuntimeException e) {
                    Log.error("mount scan failed: " + e);
                }
                lastScan = System.nanoTime();
            }
        }
    }

    private Set<Integer> memberPids() {
        Set<Integer> s = new HashSet<>();
        s.add(0);
        directory.members().forEach(m -> s.add(m.pid()));
        return s;
    }

    private synchronized Set<Integer> watchedPids() {
        return new HashSet<>(watches.keySet());
    }

    @Override
    public void close() {
        stopping = true;
        try {
            thread.join(java.time.Duration.ofSeconds(2));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (this) {
            watches.values().forEach(Fd::close);
            watches.clear();
        }
    }
}
