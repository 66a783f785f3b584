package dev.imans.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;

/**
 * File facts from {@code statx(2)} (one binding serves fstat, stat, lstat and fstatat: the statx
 * layout is the same on every architecture, unlike {@code struct stat}) and {@code fstatfs(2)}.
 *
 * <pre>
 * struct statx {                         include/uapi/linux/stat.h
 *   0 u32 stx_mask     4 u32 stx_blksize    8 u64 stx_attributes
 *  16 u32 stx_nlink   20 u32 stx_uid       24 u32 stx_gid       28 u16 stx_mode
 *  32 u64 stx_ino     40 u64 stx_size      48 u64 stx_blocks    56 u64 stx_attributes_mask
 *  64 atime  80 btime  96 ctime  112 mtime   (struct statx_timestamp { s64 tv_sec; u32 tv_nsec; s32 })
 * 128 u32 rdev_major 132 rdev_minor 136 u32 dev_major 140 u32 dev_minor 144 u64 stx_mnt_id
 * }                                       256 bytes
 * </pre>
 *
 * <p>{@link Buffer} is the allocation-free form for the event path; the static methods return records.
 */
public final class Stat {
    /** statx flags and mask bits, include/uapi/linux/fcntl.h and stat.h. */
    public static final int AT_SYMLINK_NOFOLLOW = 0x100;
    public static final int AT_EMPTY_PATH = 0x1000;
    public static final int STATX_BASIC_STATS = 0x7ff;
    public static final int STATX_MNT_ID = 0x1000;
    /** The mount's 64-bit id, never reused while the system runs (Linux 6.8), in {@code stx_mnt_id}. */
    public static final int STATX_MNT_ID_UNIQUE = 0x4000;
    /** File type bits of st_mode, include/uapi/linux/stat.h. */
    public static final int S_IFMT = 0170000;
    public static final int S_IFSOCK = 0140000;
    public static final int S_IFLNK = 0120000;
    public static final int S_IFREG = 0100000;
    public static final int S_IFBLK = 0060000;
    public static final int S_IFDIR = 0040000;
    public static final int S_IFCHR = 0020000;
    public static final int S_IFIFO = 0010000;

    public static final long STATX_SIZE = 256;
    static final long OFF_NLINK = 16;
    static final long OFF_UID = 20;
    static final long OFF_GID = 24;
    static final long OFF_MODE = 28;
    static final long OFF_INO = 32;
    static final long OFF_SIZE = 40;
    static final long OFF_CTIME = 96;
    static final long OFF_MTIME = 112;
    static final long OFF_DEV_MAJOR = 136;
    static final long OFF_DEV_MINOR = 140;
    static final long OFF_MNT_ID = 144;

    /**
     * struct statfs of the 64-bit generic ABI (include/uapi/asm-generic/statfs.h, x86_64 and aarch64):
     * f_type at 0, f_fsid (two ints) at 56, 120 bytes in all.
     */
    public static final StructLayout STATFS = MemoryLayout.structLayout(
            JAVA_LONG.withName("f_type"), JAVA_LONG.withName("f_bsize"), JAVA_LONG.withName("f_blocks"),
            JAVA_LONG.withName("f_bfree"), JAVA_LONG.withName("f_bavail"), JAVA_LONG.withName("f_files"),
            JAVA_LONG.withName("f_ffree"), MemoryLayout.sequenceLayout(2, JAVA_INT).withName("f_fsid"),
            JAVA_LONG.withName("f_namelen"), JAVA_LONG.withName("f_frsize"), JAVA_LONG.withName("f_flags"),
            MemoryLayout.sequenceLayout(4, JAVA_LONG).withName("f_spare"));
    private static final long OFF_F_TYPE = STATFS.byteOffset(MemoryLayout.PathElement.groupElement("f_type"));
    private static final long OFF_F_FSID = STATFS.byteOffset(MemoryLayout.PathElement.groupElement("f_fsid"));

    /** Filesystem magics (include/uapi/linux/magic.h) the daemon cares about. */
    public static final long TMPFS_MAGIC = 0x01021994L;
    public static final long EXT4_SUPER_MAGIC = 0xEF53L;
    public static final long OVERLAYFS_SUPER_MAGIC = 0x794c7630L;
    public static final long PROC_SUPER_MAGIC = 0x9fa0L;
    public static final long NSFS_MAGIC = 0x6e736673L;
    public static final long FUSE_SUPER_MAGIC = 0x65735546L;
    public static final long XFS_SUPER_MAGIC = 0x58465342L;
    public static final long BTRFS_SUPER_MAGIC = 0x9123683EL;

    private static final MethodHandle STATX = Native.withErrno("statx",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle FSTATFS = Native.withErrno("fstatfs",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle STATFS_CALL = Native.withErrno("statfs",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));

    private Stat() {}

    /** The facts of an open file. */
    public static FileStat fstat(int fd) throws LinuxException {
        try (Buffer b = new Buffer()) {
            int errno = b.fstat(fd);
            if (errno != 0) {
                throw new LinuxException("statx", errno, "fd " + fd);
            }
            return b.toRecord();
        }
    }

    /** The facts of {@code path}, following a final symlink. */
    public static FileStat stat(Path path) throws LinuxException {
        return statat(Fanotify.AT_FDCWD, path, 0);
    }

    /** The facts of {@code path} itself, not following a final symlink. */
    public static FileStat lstat(Path path) throws LinuxException {
        return statat(Fanotify.AT_FDCWD, path, AT_SYMLINK_NOFOLLOW);
    }

    /** {@code fstatat(dirfd, path, flags)} by way of statx. */
    public static FileStat statat(int dirfd, Path path, int flags) throws LinuxException {
        try (Buffer b = new Buffer(); Arena arena = Arena.ofConfined()) {
            int errno = b.statx(dirfd, arena.allocateFrom(path.toString()), flags);
            if (errno != 0) {
                throw new LinuxException("statx", errno, path.toString());
            }
            return b.toRecord();
        }
    }

    /** {@code fstatfs(fd)}: the filesystem type (magic) and id. */
    public static FsStat fstatfs(int fd) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment err = Native.errnoSegment(arena);
            MemorySegment buf = arena.allocate(STATFS);
            int rc = (int) FSTATFS.invokeExact(err, fd, buf);
            if (rc != 0) {
                throw new LinuxException("fstatfs", Native.errno(err), "fd " + fd);
            }
            return fsStat(buf);
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw Native.linkageBug(t);
        }
    }

    /** {@code statfs(path)}. */
    public static FsStat statfs(Path path) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment err = Native.errnoSegment(arena);
            MemorySegment buf = arena.allocate(STATFS);
            int rc = (int) STATFS_CALL.invokeExact(err, arena.allocateFrom(path.toString()), buf);
            if (rc != 0) {
                throw new LinuxException("statfs", Native.errno(err), path.toString());
            }
            return fsStat(buf);
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw Native.linkageBug(t);
        }
    }

    private static FsStat fsStat(MemorySegment buf) {
        return new FsStat(buf.get(JAVA_LONG, OFF_F_TYPE), buf.get(JAVA_INT, OFF_F_FSID),
                buf.get(JAVA_INT, OFF_F_FSID + 4));
    }

    /** A filesystem's magic ({@code f_type}) and {@code f_fsid}. */
    public record FsStat(long type, int fsid0, int fsid1) {
        public boolean isOverlay() {
            return type == OVERLAYFS_SUPER_MAGIC;
        }
    }

    /**
     * A reusable statx buffer for one thread: {@link #fstat} fills it, the getters read it. No
     * allocation per call.
     */
    public static final class Buffer implements AutoCloseable {
        private static final MemorySegment EMPTY = Arena.global().allocateFrom("");
        // Confined: a buffer lives on one thread, and closing a shared arena is a handshake with every
        // JVM thread, which a buffer made and closed per event would pay on the decision path.
        private final Arena arena = Arena.ofConfined();
        private final MemorySegment buf = arena.allocate(STATX_SIZE, 8);
        private final MemorySegment err = Native.errnoSegment(arena);

        /** Fills the buffer from the open file {@code fd}: 0 or the errno. */
        public int fstat(int fd) {
            return statx(fd, EMPTY, AT_EMPTY_PATH, STATX_BASIC_STATS | STATX_MNT_ID);
        }

        /**
         * As {@link #fstat}, with the mount's unique id ({@link #uniqueMountId}) in place of the
         * mountinfo one ({@link #mountId} is then not to be read).
         */
        public int fstatUniqueMount(int fd) {
            return statx(fd, EMPTY, AT_EMPTY_PATH, STATX_BASIC_STATS | STATX_MNT_ID_UNIQUE);
        }

        int statx(int dirfd, MemorySegment path, int flags) {
            return statx(dirfd, path, flags, STATX_BASIC_STATS | STATX_MNT_ID);
        }

        private int statx(int dirfd, MemorySegment path, int flags, int mask) {
            try {
                int rc = (int) STATX.invokeExact(err, dirfd, path, flags, mask, buf);
                return rc == 0 ? 0 : Native.errno(err);
            } catch (Throwable t) {
                throw Native.linkageBug(t);
            }
        }

        public int devMajor() {
            return buf.get(JAVA_INT, OFF_DEV_MAJOR);
        }

        public int devMinor() {
            return buf.get(JAVA_INT, OFF_DEV_MINOR);
        }

        /** {@code major << 32 | minor}: one number for a device, for keys. */
        public long dev() {
            return ((long) devMajor() << 32) | (devMinor() & 0xffffffffL);
        }

        public long ino() {
            return buf.get(JAVA_LONG, OFF_INO);
        }

        public int mode() {
            return buf.get(JAVA_SHORT, OFF_MODE) & 0xffff;
        }

        public int nlink() {
            return buf.get(JAVA_INT, OFF_NLINK);
        }

        public int uid() {
            return buf.get(JAVA_INT, OFF_UID);
        }

        public int gid() {
            return buf.get(JAVA_INT, OFF_GID);
        }

        public long size() {
            return buf.get(JAVA_LONG, OFF_SIZE);
        }

        public long mtimeSec() {
            return buf.get(JAVA_LONG, OFF_MTIME);
        }

        public int mtimeNsec() {
            return buf.get(JAVA_INT, OFF_MTIME + 8);
        }

        public long ctimeSec() {
            return buf.get(JAVA_LONG, OFF_CTIME);
        }

        public int ctimeNsec() {
            return buf.get(JAVA_INT, OFF_CTIME + 8);
        }

        public long mountId() {
            return buf.get(JAVA_LONG, OFF_MNT_ID);
        }

        /**
         * After {@link #fstatUniqueMount}: the mount's unique id, or 0 where the kernel has none (before
         * Linux 6.8, which then fills in the mountinfo id and says so in {@code stx_mask}).
         */
        public long uniqueMountId() {
            return (buf.get(JAVA_INT, 0) & STATX_MNT_ID_UNIQUE) != 0 ? buf.get(JAVA_LONG, OFF_MNT_ID) : 0;
        }

        public FileStat toRecord() {
            return new FileStat(devMajor(), devMinor(), ino(), mode(), nlink(), uid(), gid(), size(),
                    mtimeSec(), mtimeNsec(), ctimeSec(), ctimeNsec(), mountId());
        }

        @Override
        public void close() {
            arena.close();
        }
    }
}
