package dev.imans.daemon.enforce;

import dev.imans.linux.MountInfo;
import java.util.Set;

/**
 * Which filesystems get permission marks. Never: pseudo filesystems whose files are not content
 * (proc, sysfs, cgroup, devpts...; the kernel refuses permission marks on some of them anyway), FUSE
 * (our own control filesystem among them: a permission event on it would wait for the daemon while the
 * daemon's FUSE thread waits for the opener, a deadlock) and overlayfs (the filesystem of its layers is
 * marked instead: it sees every open through the overlay, and one reader serving both deadlocks,
 * fanotify.md 2.10).
 */
final class MountFilter {
    static final Set<String> PSEUDO = Set.of("proc", "sysfs", "devtmpfs", "devpts", "cgroup", "cgroup2", "securityfs",
            "debugfs", "tracefs", "bpf", "pstore", "mqueue", "configfs", "fusectl", "binfmt_misc", "autofs", "nsfs",
            "rpc_pipefs", "efivarfs", "selinuxfs", "hugetlbfs", "overlay", "fuse", "fuseblk", "nfsd");

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
}
