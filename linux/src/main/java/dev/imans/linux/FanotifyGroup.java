package dev.imans.linux;

import java.lang.foreign.Arena;
import java.nio.file.Path;

/**
 * One fanotify group descriptor and the flags it was created with. Closing it makes the kernel
 * answer every pending permission event of the group with FAN_ALLOW ({@code fanotify_release()}).
 */
public final class FanotifyGroup implements AutoCloseable {
    /** {@code event_f_flags}: read-only (O_RDWR would make reads of running executables fail ETXTBSY). */
    public static final int EVENT_F_FLAGS = Fd.O_RDONLY | Fd.O_LARGEFILE | Fd.O_CLOEXEC | Fd.O_NOATIME;

    private final int fd;
    private final int flags;
    private boolean closed;
    private boolean released;

    private FanotifyGroup(int fd, int flags) {
        this.fd = fd;
        this.flags = flags;
    }

    /** A group with exactly these {@code fanotify_init} flags. */
    public static FanotifyGroup open(int flags, int eventFFlags) throws LinuxException {
        return new FanotifyGroup(Fanotify.init(flags, eventFFlags), flags);
    }

    /**
     * A permission group ({@code FAN_CLASS_CONTENT}, unlimited queue and marks: a full queue would allow
     * opens unanswered), with {@code FAN_REPORT_PIDFD} when asked for and the kernel has it (5.15+);
     * without it {@link #reportsPidfd()} is false and events carry a pid only: the opening thread's
     * ({@code FAN_REPORT_TID}, 4.20+, which the kernel refuses beside a pidfd) where the kernel has it,
     * see {@link #reportsTid()}.
     */
    public static FanotifyGroup openPermissionGroup(boolean wantPidfd) throws LinuxException {
        int base = Fanotify.FAN_CLASS_CONTENT | Fanotify.FAN_CLOEXEC
                | Fanotify.FAN_UNLIMITED_QUEUE | Fanotify.FAN_UNLIMITED_MARKS;
        for (int extra : wantPidfd ? new int[] {Fanotify.FAN_REPORT_PIDFD} : new int[] {Fanotify.FAN_REPORT_TID}) {
            try {
                return open(base | extra, EVENT_F_FLAGS);
            } catch (LinuxException e) {
                if (e.errnoValue() != Errno.EINVAL) {
                    throw e;
                }
            }
        }
        return open(base, EVENT_F_FLAGS);
    }

    /**
     * A notification group ({@code FAN_CLASS_NOTIF}, unlimited queue) for modification events; its reads
     * never block ({@code FAN_NONBLOCK}: an empty queue is EAGAIN), since more than one thread may drain it.
     */
    public static FanotifyGroup openNotificationGroup() throws LinuxException {
        return open(Fanotify.FAN_CLASS_NOTIF | Fanotify.FAN_CLOEXEC | Fanotify.FAN_NONBLOCK
                | Fanotify.FAN_UNLIMITED_QUEUE | Fanotify.FAN_UNLIMITED_MARKS, EVENT_F_FLAGS);
    }

    /**
     * A notification group reporting file identifiers ({@code FAN_REPORT_FID}, 5.1+): events carry no
     * descriptor but the object's fsid and file handle, and may be of kinds no descriptor group gets
     * (FAN_ATTRIB: chown, chmod, setxattr).
     */
    public static FanotifyGroup openFidNotificationGroup() throws LinuxException {
        return open(Fanotify.FAN_CLASS_NOTIF | Fanotify.FAN_CLOEXEC | Fanotify.FAN_UNLIMITED_QUEUE
                | Fanotify.FAN_UNLIMITED_MARKS | Fanotify.FAN_REPORT_FID, EVENT_F_FLAGS);
    }

    public int fd() {
        return fd;
    }

    public int flags() {
        return flags;
    }

    public boolean reportsPidfd() {
        return (flags & Fanotify.FAN_REPORT_PIDFD) != 0;
    }

    /**
     * Whether an event's pid is the opening thread's id ({@code FAN_REPORT_TID}) rather than its thread
     * group's: then {@code /proc/PID} is that thread's credentials, namespace and current call.
     */
    public boolean reportsTid() {
        return (flags & Fanotify.FAN_REPORT_TID) != 0;
    }

    /** {@code fanotify_mark(fd, FAN_MARK_ADD | markFlags, mask, AT_FDCWD, path)}. */
    public void add(int markFlags, long mask, Path path) throws LinuxException {
        Fanotify.mark(fd, Fanotify.FAN_MARK_ADD | markFlags, mask, Fanotify.AT_FDCWD, path);
    }

    /** {@code fanotify_mark(fd, FAN_MARK_REMOVE | markFlags, mask, AT_FDCWD, path)}. */
    public void remove(int markFlags, long mask, Path path) throws LinuxException {
        Fanotify.mark(fd, Fanotify.FAN_MARK_REMOVE | markFlags, mask, Fanotify.AT_FDCWD, path);
    }

    /** include/uapi/asm-generic/ioctls.h. */
    private static final long FIONREAD = 0x541B;

    /**
     * The bytes of events queued and not yet read ({@code FIONREAD}, fanotify_ioctl: each event's
     * metadata and info records). The kernel walks the queue under its lock to count: for occasional
     * checks, not per event.
     */
    public int queuedBytes() throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            java.lang.foreign.MemorySegment n = arena.allocate(java.lang.foreign.ValueLayout.JAVA_INT);
            int rc = Unistd.ioctl(Native.errnoSegment(arena), fd, FIONREAD, n);
            if (rc < 0) {
                throw new LinuxException("ioctl(FIONREAD)", -rc, toString());
            }
            return n.get(java.lang.foreign.ValueLayout.JAVA_INT, 0);
        }
    }

    /** Removes every mark of one type ({@code FAN_MARK_INODE}, {@code _MOUNT} or {@code _FILESYSTEM}). */
    public void flush(int markType) throws LinuxException {
        Fanotify.mark(fd, Fanotify.FAN_MARK_FLUSH | markType, 0, Fanotify.AT_FDCWD, null);
    }

    /**
     * Releases the group now (the kernel answers its pending and queued permission events FAN_ALLOW)
     * while keeping the descriptor number taken: it is atomically re-pointed at {@code replacementFd}
     * (e.g. an open {@code /dev/null}), so a thread that still writes an answer to it cannot hit an
     * unrelated file that reused the number. {@link #close()} frees the number later.
     */
    public synchronized void release(int replacementFd) throws LinuxException {
        if (closed || released) {
            return;
        }
        try (Arena arena = Arena.ofConfined()) {
            int rc = Unistd.dup3(Native.errnoSegment(arena), replacementFd, fd);
            if (rc < 0) {
                throw new LinuxException("dup3", -rc, "fanotify group fd " + fd);
            }
        }
        released = true;
    }

    public synchronized boolean isReleased() {
        return released || closed;
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            Fd.closeQuietly(fd);
        }
    }

    @Override
    public String toString() {
        return "fanotify group fd " + fd + " flags 0x" + Integer.toHexString(flags);
    }
}
