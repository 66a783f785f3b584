package dev.imans.daemon.enforce;

import dev.imans.linux.FsUuid;
import dev.imans.linux.LinuxException;
import dev.imans.linux.MountInfo;
import dev.imans.linux.Mounts;
import dev.imans.linux.Stat;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the kernel calls a filesystem, by device number: its type name ({@code s_type->name}, what
 * {@code fsname=} rules test) and its superblock id ({@code sb->s_id}, the {@code dev=} of audit
 * records). Learnt from the mountinfo files the mount tracker reads.
 *
 * <p>{@code s_id}: filesystems without a block device get their type's name ({@code sget_fc},
 * fs/super.c: "tmpfs", "proc"); block filesystems get the device name ({@code "%pg"}: "vda", "sda1",
 * "loop0"), read here from {@code /sys/dev/block/MAJ:MIN/uevent}. A filesystem that sets its own s_id on
 * an anonymous device (btrfs, for one) is shown by its type name.
 *
 * <p>And each superblock's UUID ({@code sb->s_uuid}, what {@code fsuuid=} rules compare), read once
 * per filesystem through the first event's descriptor ({@link FsUuid}). Device numbers are reused: an
 * anonymous device (tmpfs, overlay) or a loop device freed by an unmount goes to the next mount. So
 * each UUID is kept with the {@code statfs} magic and {@code f_fsid} it was read under (a new tmpfs or
 * ext4 has a new {@code f_fsid}, derived from its UUID) and read again when they differ, and
 * {@link #retain} drops the devices no mount table shows any more, for filesystems whose
 * {@code f_fsid} is the device number.
 */
public final class FilesystemTable {
    /** One filesystem as named by the kernel. */
    public record Names(String fsName, String sId) {}

    private static final Names UNKNOWN = new Names("", "unknown");

    /** Device numbers files report for a mounted filesystem that mountinfo shows under another number. */
    private final java.util.concurrent.ConcurrentHashMap<Long, Long> aliases = new java.util.concurrent.ConcurrentHashMap<>();
    private final ConcurrentHashMap<Long, Names> byDev = new ConcurrentHashMap<>();

    /** A UUID and the statfs identity of the superblock it was read from; {@code uuid} null when unreadable. */
    private record Uuid(long magic, int fsid0, int fsid1, UUID uuid) {}

    private final ConcurrentHashMap<Long, Uuid> uuids = new ConcurrentHashMap<>();

    /**
     * What the rules test of a mount's filesystem: its magic, type name and UUID. A mount's superblock is
     * fixed for the mount's life, and a unique mount id ({@code STATX_MNT_ID_UNIQUE}) is never given to
     * another mount, so these hold for as long as the id is seen: an event on a known mount needs no
     * {@code fstatfs} and no lookups.
     */
    public record Superblock(long magic, String fsName, UUID uuid) {}

    /** Bounded: the ids of mounts that are gone are never seen again, and are dropped with the rest. */
    static final int MOUNTS_MAX = 4096;

    private final ConcurrentHashMap<Long, Superblock> byMount = new ConcurrentHashMap<>();

    /** The superblock facts learnt for the mount with unique id {@code uniqueMountId} (not 0), or null. */
    public Superblock ofMount(long uniqueMountId) {
        return byMount.get(uniqueMountId);
    }

    /**
     * Learns {@code sb} for the mount {@code uniqueMountId}; not kept when its type name is not known yet
     * (a mount the mount tracker has still to read), so that it is looked up again.
     */
    public void learnMount(long uniqueMountId, Superblock sb) {
        if (uniqueMountId == 0 || sb.fsName().isEmpty()) {
            return;
        }
        if (byMount.size() >= MOUNTS_MAX) {
            byMount.clear();
        }
        byMount.put(uniqueMountId, sb);
    }

    /**
     * Records the filesystem of one mount. A device number now showing another type is another
     * filesystem (the number was freed by an unmount and given to the next mount): learnt anew.
     */
    public void learn(MountInfo m) {
        Names before = byDev.get(m.dev());
        Names now = byDev.compute(m.dev(), (d, known) -> known != null && known.fsName().equals(typeName(m.fsType()))
                ? known : names(m));
        if (before != null && !before.equals(now)) {
            // A reused number: what mounts learnt under its old names may be wrong (a mount's own facts
            // cannot change, but the name it was given came from this table).
            byMount.clear();
        }
    }

    /**
     * Files on {@code dev} belong to the filesystem of mount {@code m} though mountinfo shows another
     * device number for it (a btrfs subvolume's own number).
     */
    public void alias(long dev, MountInfo m) {
        Names now = names(m);
        Names before = byDev.put(dev, now);
        aliases.put(dev, m.dev());
        if (before != null && !before.equals(now)) {
            byMount.clear();
        }
    }

    /**
     * Records a kernel-internal superblock that no mount table shows (the hugetlbfs behind
     * {@code MFD_HUGETLB} memfds): its {@code s_id} is its type's name (sget_fc), and it lives as long as
     * the kernel, so its device number is never given to another filesystem.
     */
    public void internal(long dev, String type) {
        internal.add(dev);
        byDev.put(dev, new Names(type, type));
    }

    /** The kernel-internal superblocks recorded: no mount table shows them, and {@link #retain} keeps them. */
    private final java.util.Set<Long> internal = ConcurrentHashMap.newKeySet();

    /** The names of the filesystem on {@code dev}; looked up in the daemon's own mounts when not yet known. */
    public Names lookup(long dev) {
        Names n = byDev.get(dev);
        if (n != null) {
            return n;
        }
        try {
            for (MountInfo m : Mounts.readSelf()) {
                learn(m);
            }
        } catch (IOException | IllegalArgumentException e) {
            return UNKNOWN;
        }
        return byDev.getOrDefault(dev, UNKNOWN);
    }

    /** An overlay's superblock: anonymous, so its {@code s_id} is its type's name (sget_fc). */
    private static final Names OVERLAY = new Names("overlay", "overlay");

    /**
     * The names of the filesystem that the file on {@code dev} whose statfs is {@code fs} is opened on.
     * A regular file of an overlay whose layers are on two filesystems reports a pseudo device of its
     * layer (ovl_map_dev_ino), which no mount table shows, while the opened inode, which the kernel's
     * rules and records name, is the overlay's: statfs tells it apart.
     */
    public Names of(long dev, Stat.FsStat fs) {
        if (fs.isOverlay()) {
            return OVERLAY;
        }
        Names n = lookup(dev);
        return n != UNKNOWN ? n : BY_MAGIC.getOrDefault(fs.type(), UNKNOWN);
    }

    /**
     * Names told by the magic alone, for a superblock no mount table shows (lazily unmounted while a
     * descriptor keeps it, or hidden): an {@code fsname=} rule would otherwise match nothing on it,
     * where the kernel matches the type's name. Only magics that one marked type owns (ext2/3/4 share
     * theirs, vfat and msdos too); an anonymous superblock's {@code s_id} is its type's name (sget_fc).
     */
    private static final java.util.Map<Long, Names> BY_MAGIC = java.util.Map.of(
            Stat.TMPFS_MAGIC, new Names("tmpfs", "tmpfs"),
            0x858458f6L, new Names("ramfs", "ramfs"),
            0x58465342L, new Names("xfs", "unknown"),
            0x9123683eL, new Names("btrfs", "unknown"),
            0x73717368L, new Names("squashfs", "unknown"),
            0xe0f5e1e2L, new Names("erofs", "unknown"),
            0xf2f52010L, new Names("f2fs", "unknown"));

    /**
     * The UUID of the superblock on {@code dev} that {@code fd} (an open file of it, with {@code fs} its
     * statfs) is on: read once per superblock. Null when it cannot be read (then {@code fsuuid=}
     * conditions are judged in the direction that enforces more).
     */
    public UUID fsUuid(long dev, Stat.FsStat fs, int fd) {
        Uuid known = uuids.get(dev);
        if (known != null && known.magic() == fs.type() && known.fsid0() == fs.fsid0() && known.fsid1() == fs.fsid1()) {
            return known.uuid();
        }
        UUID uuid;
        try {
            uuid = FsUuid.read(fd, fs.type()).orElse(null);
        } catch (LinuxException e) {
            uuid = null;
        }
        uuids.put(dev, new Uuid(fs.type(), fs.fsid0(), fs.fsid1(), uuid));
        return uuid;
    }

    /** Forgets the devices not in {@code present} (every device the mount tables show). */
    public void retain(Collection<Long> present) {
        aliases.values().retainAll(present);
        byDev.keySet().removeIf(d -> !present.contains(d) && !aliases.containsKey(d) && !internal.contains(d));
        uuids.keySet().removeIf(d -> !present.contains(d) && !aliases.containsKey(d));
    }

    /** The type as {@code s_type->name}: mountinfo shows a FUSE subtype after a dot ({@code fuse.imans}). */
    static String typeName(String fsType) {
        int dot = fsType.indexOf('.');
        return dot < 0 ? fsType : fsType.substring(0, dot);
    }

    private static Names names(MountInfo m) {
        String type = typeName(m.fsType());
        if (m.major() == 0) {
            return new Names(type, type);
        }
        Path uevent = Path.of("/sys/dev/block/" + m.major() + ":" + m.minor() + "/uevent");
        try {
            for (String line : Files.readString(uevent, StandardCharsets.UTF_8).split("\n")) {
                if (line.startsWith("DEVNAME=")) {
                    return new Names(type, line.substring(8));
                }
            }
        } catch (IOException e) {
            // No sysfs entry (a device outside the daemon's sysfs view): the mount source's last part.
        }
        String src = m.source();
        return new Names(type, src.substring(src.lastIndexOf('/') + 1));
    }
}
