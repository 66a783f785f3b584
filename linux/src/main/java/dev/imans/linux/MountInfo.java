package dev.imans.linux;

import java.util.List;

/**
 * One line of {@code /proc/PID/mountinfo} (Documentation/filesystems/proc.rst, "3.5 /proc/<pid>/mountinfo"),
 * with the octal escapes ({@code \040} for a space...) of root, mount point and source decoded.
 *
 * @param mountId unique id of the mount (may be reused after umount)
 * @param parentId id of the parent mount (or of itself for the root of the namespace's tree)
 * @param major st_dev major of files on this filesystem
 * @param minor st_dev minor
 * @param root the directory of the filesystem that forms the root of this mount
 * @param mountPoint where it is mounted, relative to the reading process's root
 * @param mountOptions per-mount options
 * @param optionalFields tagged fields such as {@code shared:1}, {@code master:2}
 * @param fsType filesystem type, e.g. {@code tmpfs}, {@code overlay}, {@code fuse.imans}
 * @param source filesystem-specific source, e.g. {@code /dev/sda1}, or {@code none}
 * @param superOptions per-superblock options
 */
public record MountInfo(int mountId, int parentId, int major, int minor, String root, String mountPoint,
        String mountOptions, List<String> optionalFields, String fsType, String source, String superOptions) {

    public MountInfo {
        optionalFields = List.copyOf(optionalFields);
    }

    /** {@code major << 32 | minor}, comparable with {@link FileStat#dev()}. */
    public long dev() {
        return ((long) major << 32) | (minor & 0xffffffffL);
    }
}
