package dev.imans.linux;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.UUID;

/**
 * A superblock's UUID ({@code sb->s_uuid}, what IMA's {@code fsuuid=} compares) read through an open
 * file of it.
 *
 * <p>{@code FS_IOC_GETFSUUID} (fs/ioctl.c, Linux 6.9) copies {@code s_uuid_len} bytes of it, and fails
 * with ENOTTY when {@code s_uuid_len} is 0. Filesystems that set their UUID with {@code super_set_uuid()}
 * (ext4, xfs, f2fs, erofs, tmpfs, overlay with {@code uuid=on|auto}, sysfs, fat with its 4-byte volume
 * id) answer; a filesystem that sets none leaves {@code s_uuid} zeroed ({@code alloc_super} zeroes the
 * superblock). btrfs copies its fsid into {@code s_uuid} without the length, so the ioctl fails there
 * although {@code s_uuid} is set: {@code BTRFS_IOC_FS_INFO} gives the same fsid.
 */
public final class FsUuid {
    /** {@code _IOR(0x15, 0, struct fsuuid2)}: {@code struct fsuuid2 { __u8 len; __u8 uuid[16]; }}. */
    public static final long FS_IOC_GETFSUUID = 0x80111500L;
    /**
     * {@code _IOR(0x94, 31, struct btrfs_ioctl_fs_info_args)} (1024 bytes: {@code __u64 max_id},
     * {@code __u64 num_devices}, {@code __u8 fsid[16]} at offset 16, ...). No capability needed.
     */
    public static final long BTRFS_IOC_FS_INFO = 0x8400941FL;
    private static final long FSUUID2_SIZE = 17;
    private static final long FS_INFO_SIZE = 1024;
    private static final long FS_INFO_FSID = 16;

    private static final boolean GENERIC = genericIoctl(osRelease());

    private FsUuid() {}

    /**
     * The UUID of the superblock {@code fd} is on: {@code s_uuid} as 16 bytes (a shorter UUID followed by
     * zeros, as the kernel stores it). Empty when the kernel cannot tell it: before Linux 6.9, or on a
     * filesystem that sets {@code s_uuid} without its length and has no other way to show it.
     *
     * @param magic the filesystem's {@code statfs f_type}: btrfs is asked its own way, and FUSE is never
     *              asked (FUSE sets no UUID, and on kernels before 6.9 an unknown ioctl would be forwarded
     *              to the FUSE server)
     * @throws LinuxException when an ioctl fails for another reason than an unsupported request
     */
    public static Optional<UUID> read(int fd, long magic) throws LinuxException {
        if (magic == Stat.FUSE_SUPER_MAGIC) {
            return Optional.of(new UUID(0, 0));
        }
        if (magic == Stat.BTRFS_SUPER_MAGIC) {
            return Optional.of(btrfsFsid(fd));
        }
        if (!GENERIC) {
            return Optional.empty();
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment err = Native.errnoSegment(arena);
            MemorySegment buf = arena.allocate(FSUUID2_SIZE);
            int rc = Unistd.ioctl(err, fd, FS_IOC_GETFSUUID, buf);
            if (rc == -Errno.ENOTTY) {
                return Optional.of(new UUID(0, 0));
            }
            if (rc < 0) {
                throw new LinuxException("ioctl(FS_IOC_GETFSUUID)", -rc, "fd " + fd);
            }
            int len = Math.min(16, Byte.toUnsignedInt(buf.get(ValueLayout.JAVA_BYTE, 0)));
            byte[] uuid = new byte[16];
            MemorySegment.copy(buf, ValueLayout.JAVA_BYTE, 1, uuid, 0, len);
            return Optional.of(uuid(uuid));
        }
    }

    /** {@code BTRFS_IOC_FS_INFO}'s fsid: what btrfs copies into {@code s_uuid} at mount. */
    static UUID btrfsFsid(int fd) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment err = Native.errnoSegment(arena);
            MemorySegment buf = arena.allocate(FS_INFO_SIZE);
            int rc = Unistd.ioctl(err, fd, BTRFS_IOC_FS_INFO, buf);
            if (rc < 0) {
                throw new LinuxException("ioctl(BTRFS_IOC_FS_INFO)", -rc, "fd " + fd);
            }
            byte[] uuid = new byte[16];
            MemorySegment.copy(buf, ValueLayout.JAVA_BYTE, FS_INFO_FSID, uuid, 0, 16);
            return uuid(uuid);
        }
    }

    private static UUID uuid(byte[] b) {
        ByteBuffer bb = ByteBuffer.wrap(b);
        return new UUID(bb.getLong(), bb.getLong());
    }

    /** Whether this kernel has the generic ioctl (6.9 and later), from a release like {@code 6.18.44-...}. */
    static boolean genericIoctl(String release) {
        String[] parts = release.strip().split("[.-]", 3);
        try {
            int major = Integer.parseInt(parts[0]);
            int minor = parts.length > 1 ? Integer.parseInt(parts[1]) : 0;
            return major > 6 || major == 6 && minor >= 9;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private static String osRelease() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/osrelease"), StandardCharsets.US_ASCII);
        } catch (java.io.IOException e) {
            return "";
        }
    }
}
