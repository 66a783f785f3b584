package dev.imans.daemon.enforce;

import dev.imans.linux.MountInfo;
import dev.imans.linux.Mounts;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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
 */
public final class FilesystemTable {
    /** One filesystem as named by the kernel. */
    public record Names(String fsName, String sId) {}

    private static final Names UNKNOWN = new Names("", "unknown");

    private final ConcurrentHashMap<Long, Names> byDev = new ConcurrentHashMap<>();

    /** Records the filesystem of one mount. */
    public void learn(MountInfo m) {
        byDev.computeIfAbsent(m.dev(), d -> names(m));
    }

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
