package dev.imans.policy;

import java.util.UUID;

/**
 * What the policy can test about a file without its opener: the superblock it lives on (magic, type
 * name, UUID) and its owner and group.
 *
 * @param fsMagic the superblock magic ({@code statfs f_type}), what {@code fsmagic=} tests
 * @param fsName  the filesystem type name ({@code s_type->name}, e.g. {@code tmpfs}), what {@code fsname=} tests
 * @param fsUuid  the superblock's {@code s_uuid} as {@code fsuuid=} compares it: {@link #NO_UUID} for a
 *                filesystem that sets none (the kernel compares its zeroed field), {@code null} when it
 *                could not be read; such a condition is then judged in the direction that enforces more
 *                ({@link PolicyMatcher})
 * @param owner   the file owner as seen through the mount's idmapping, what {@code fowner=} tests
 * @param group   the file group likewise, what {@code fgroup=} tests
 * @param label   the file's SELinux context, what {@code obj_*=} test; null where SELinux labels are not
 *                judged (no SELinux on the kernel), and then every LSM condition fails, as on a kernel
 *                where no active LSM can build it
 */
public record FileFacts(long fsMagic, String fsName, UUID fsUuid, long owner, long group, SelinuxContext label) {
    /** The all-zero UUID, {@code s_uuid} of a superblock that sets none. */
    public static final UUID NO_UUID = new UUID(0, 0);

    private static final FileFacts ROOT_FILE = new FileFacts(0, "", NO_UUID, 0, 0);

    /** A file whose SELinux label is not judged. */
    public FileFacts(long fsMagic, String fsName, UUID fsUuid, long owner, long group) {
        this(fsMagic, fsName, fsUuid, owner, group, null);
    }

    public FileFacts {
        if (fsName == null) {
            fsName = "";
        }
    }

    /** A root-owned file on a filesystem with magic 0, no name and no UUID. */
    public static FileFacts rootFile() {
        return ROOT_FILE;
    }

    public FileFacts withFilesystem(long magic, String name, UUID uuid) {
        return new FileFacts(magic, name, uuid, owner, group, label);
    }

    public FileFacts withOwner(long ownerValue, long groupValue) {
        return new FileFacts(fsMagic, fsName, fsUuid, ownerValue, groupValue, label);
    }

    public FileFacts withLabel(SelinuxContext value) {
        return new FileFacts(fsMagic, fsName, fsUuid, owner, group, value);
    }
}
