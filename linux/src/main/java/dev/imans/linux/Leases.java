package dev.imans.linux;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * File leases ({@code fcntl(F_SETLEASE)}) used as a probe: does anybody have this file open for
 * writing? Linux has no direct query for an inode's writer count, but the kernel refuses a read lease
 * with EAGAIN exactly when the inode is open for write ({@code check_conflicting_open} in fs/locks.c),
 * and a shared writable mapping keeps its file, and so the writer count, alive after close(2).
 */
public final class Leases {
    /** include/uapi/linux/fcntl.h: F_LINUX_SPECIFIC_BASE (1024) + 0. */
    public static final int F_SETLEASE = 1024;
    /** include/uapi/asm-generic/fcntl.h. */
    public static final int F_RDLCK = 0;
    public static final int F_UNLCK = 2;

    private Leases() {}

    /**
     * 1 if the file behind the read-only descriptor {@code fd} is open for writing anywhere, 0 if not,
     * or {@code -errno} when the probe itself failed (e.g. a filesystem without lease support).
     * Takes and at once drops a read lease; never blocks.
     */
    public static int openForWrite(MemorySegment err, int fd) {
        int rc = Unistd.fcntl(err, fd, F_SETLEASE, F_RDLCK);
        if (rc == -Errno.EAGAIN) {
            return 1;
        }
        if (rc < 0) {
            return rc;
        }
        Unistd.fcntl(err, fd, F_SETLEASE, F_UNLCK);
        return 0;
    }

    /**
     * Whether the probe found a writer; a probe that failed counts as none (the kernel's
     * {@code inode_is_open_for_write} has no failure). For callers off the per-event batch loops, which
     * keep an errno segment of their own for {@link #openForWrite}.
     */
    public static boolean hasWriter(int fd) {
        return probe(fd) == 1;
    }

    /** {@link #openForWrite} with an errno segment of its own: 1, 0, or {@code -errno} when the probe failed. */
    public static int probe(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            return openForWrite(Native.errnoSegment(arena), fd);
        }
    }
}
