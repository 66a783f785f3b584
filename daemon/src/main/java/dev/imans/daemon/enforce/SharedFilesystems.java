package dev.imans.daemon.enforce;

import dev.imans.appraise.AppraiseMode;
import dev.imans.daemon.Log;
import dev.imans.linux.LinuxException;
import dev.imans.linux.MountInfo;
import dev.imans.linux.Stat;
import dev.imans.policy.Action;
import dev.imans.policy.Func;
import dev.imans.policy.Rule;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Under {@code --namespace-filesystems-only}: the filesystems a registered namespace sees that were
 * mounted where the host sees them too. Container runtimes mount a container's root (an overlay, or a
 * plain directory tree) in the host's namespace before the container's namespace is made from it, so
 * without this the root of every container would go unchecked. Such a filesystem is marked when a
 * policy that judges the namespace (the host's or its own) may cover it; everything else the host
 * alone sees stays unmarked, which is the point of the option.
 *
 * <p>Paths are the host's: these mounts are visible to the daemon. An overlay root is marked itself
 * (in the overlays engine), so its opens are judged on the overlay's facts; its layers' filesystems stay
 * unmarked unless something else needs them. Marks are kept until the group closes (a mark the
 * main scan also relies on must never be removed from under it), and placed again at every scan.
 */
final class SharedFilesystems {
    private final FilesystemTable table;
    private final MountFilter filter;
    private final EnforcementMetrics metrics;
    private final Supplier<Policies> policies;
    private final Set<Long> marked = new HashSet<>();

    SharedFilesystems(FilesystemTable table, MountFilter filter, EnforcementMetrics metrics,
            Supplier<Policies> policies) {
        this.table = table;
        this.filter = filter;
        this.metrics = metrics;
        this.policies = policies;
    }

    /**
     * Marks {@code m}, a mount of namespace {@code nsInode} whose filesystem the host also has mounted
     * ({@code host}: the host's mounts by device), if a policy judging that namespace may cover it.
     * Devices this call is responsible for are added to {@code seen}; {@code alreadyMarked} (marked by the
     * main scan) are not logged twice.
     */
    void consider(MountInfo m, long nsInode, Map<Long, List<MountInfo>> host, Set<Long> alreadyMarked,
            Set<Long> seen, Outcome outcome) {
        Policies p = policies.get();
        if (!filter.marks(m) && !(FilesystemTable.typeName(m.fsType()).equals("overlay")
                && filter.marksOverlayOver(hostLayerTypes(host.getOrDefault(m.dev(), List.of()))))) {
            return;
        }
        for (MountInfo h : host.getOrDefault(m.dev(), List.of())) {
            if (mark(h, m.dev(), nsInode, p, alreadyMarked, seen, outcome)) {
                return;
            }
        }
    }

    /** Marks the filesystem of host mount {@code h} if covered; whether its mount point led to the expected device. */
    private boolean mark(MountInfo h, Long expectedDev, long nsInode, Policies p, Set<Long> alreadyMarked,
            Set<Long> seen, Outcome outcome) {
        Path path = Path.of(h.mountPoint());
        long dev;
        Stat.FsStat fs;
        try {
            dev = Stat.stat(path).dev();
            fs = Stat.statfs(path);
        } catch (LinuxException e) {
            return false;
        }
        // A mount point hidden under a later mount leads elsewhere: another mount of the device will do.
        if (expectedDev != null && dev != expectedDev) {
            return false;
        }
        seen.add(dev);
        String fsName = table.lookup(dev).fsName();
        if (!mayCover(p, nsInode, fs.type(), fsName)) {
            return true;
        }
        try {
            // Again at every scan, as MountTracker does: a device number may have passed to a new superblock.
            outcome.mark(path);
            outcome.marked(dev, h);
            if (!marked.add(dev) || alreadyMarked.contains(dev)) {
                return true;
            }
            metrics.filesystemsMarked.increment();
            Log.info("enforcing on " + fsName + " " + path + " (mounted on the host, seen by namespace " + nsInode + ")");
        } catch (LinuxException | IllegalArgumentException e) {
            // A degraded state like any unmarkable filesystem's, retried at every scan.
            outcome.failed(dev, fsName + " " + path + " (mounted on the host, seen by namespace " + nsInode + ")", e);
        }
        return true;
    }

    /** The filesystem types of the layers of the host's mounts of an overlay (host paths). */
    private Set<String> hostLayerTypes(List<MountInfo> hostMounts) {
        Set<String> out = new HashSet<>();
        for (MountInfo h : hostMounts) {
            out.addAll(MountTracker.layerTypes(table, h, "", Stat::stat));
        }
        return out;
    }

    /** Forgets devices no longer seen (unmounted: the kernel dropped their marks with the superblock). */
    void retain(Set<Long> seen) {
        marked.retainAll(seen);
    }

    /**
     * Whether a scope judging {@code nsInode} may appraise or measure a file of a filesystem of this magic
     * and type at open or exec: every condition about the filesystem holds, whatever the file and opener.
     */
    static boolean mayCover(Policies p, long nsInode, long fsMagic, String fsName) {
        return mayCover(p, nsInode, fsMagic, fsName, SelinuxLabels.active());
    }

    /**
     * As above; {@code lsmMayHold} says whether an LSM condition can hold at all (SELinux is active:
     * then a rule with one may cover some file here, whose context is not known before it is opened).
     */
    static boolean mayCover(Policies p, long nsInode, long fsMagic, String fsName, boolean lsmMayHold) {
        for (Scope s : p.judging(nsInode)) {
            for (Rule r : s.policy().rules()) {
                boolean acts = r.action() == Action.MEASURE || r.action() == Action.APPRAISE && s.mode() != AppraiseMode.OFF;
                if (acts && (!r.hasFunc() || r.func() == Func.FILE_CHECK || r.func() == Func.BPRM_CHECK)
                        && (r.lsm().isEmpty() || lsmMayHold) && (r.fsMagic() == null || r.fsMagic() == fsMagic)
                        && (r.fsName() == null || r.fsName().equals(fsName))) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Where the tracker hears how a mark went: its degraded-state bookkeeping. */
    interface Outcome {
        /** Places the filesystem mark (the tracker's, so a test can make it fail). */
        void mark(Path path) throws LinuxException;

        /** {@code dev} is marked through host mount {@code h} (an overlay's layers are then watched). */
        void marked(long dev, MountInfo h);

        void failed(long dev, String what, Exception e);
    }
}
