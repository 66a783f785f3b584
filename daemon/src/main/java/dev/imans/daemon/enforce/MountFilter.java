package dev.imans.daemon.enforce;

import dev.imans.linux.MountInfo;
import java.util.Set;

/**
 * Which filesystems get permission marks. Never: pseudo filesystems whose files are not content
 * (proc, sysfs, cgroup, devpts...; the kernel refuses permission marks on some of them anyway), FUSE
 * (our own control filesystem among them: a permission event on it would wait for the daemon while the
 * daemon's FUSE thread waits for the opener, a deadlock). Overlays are marked, in an engine of their
 * own (one reader serving an overlay and its layers deadlocks, fanotify.md 2.10).
 */
final class MountFilter {
    static final Set<String> PSEUDO = Set.of("proc", "sysfs", "devtmpfs", "devpts", "cgroup", "cgroup2", "securityfs",
            "debugfs", "tracefs", "bpf", "pstore", "mqueue", "configfs", "fusectl", "binfmt_misc", "autofs", "nsfs",
            "rpc_pipefs", "efivarfs", "selinuxfs", "hugetlbfs", "fuse", "fuseblk", "nfsd");

    /** The type of an overlay layer that cannot be reached: it may be one chosen. */
    static final String UNKNOWN = "?";

    private final Set<String> types;

    MountFilter(Set<String> types) {
        this.types = types;
    }

    boolean marks(MountInfo m) {
        String type = FilesystemTable.typeName(m.fsType());
        if (PSEUDO.contains(type)) {
            return false;
        }
        return types.isEmpty() || types.contains(m.fsType()) || types.contains(type);
    }

    /**
     * Whether an overlay is marked when {@link #marks} alone says no: when one of its layers is on a
     * filesystem type chosen (its files are that storage's, seen through the overlay), or cannot be told.
     */
    boolean marksOverlayOver(java.util.Collection<String> layerTypes) {
        for (String t : layerTypes) {
            if (t.equals(UNKNOWN) || !PSEUDO.contains(t) && types.contains(t)) {
                return true;
            }
        }
        return false;
    }
}
