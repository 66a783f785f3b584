package dev.imans.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * {@code fanotify_init(2)} and {@code fanotify_mark(2)}, with the constants of
 * {@code include/uapi/linux/fanotify.h} (Linux 6.18). Events are decoded by {@link FanotifyEvents} and
 * answered by {@link FanotifyResponder}; {@link FanotifyGroup} owns one group descriptor.
 *
 * <p>Version notes: permission events 2.6.37, {@code FAN_OPEN_EXEC_PERM} 5.0, {@code FAN_MARK_FILESYSTEM}
 * 4.20, {@code FAN_REPORT_PIDFD} 5.15, {@code FAN_MARK_EVICTABLE} 5.19, {@code FAN_MARK_IGNORE} 6.0.
 */
public final class Fanotify {
    // fanotify_init flags
    public static final int FAN_CLOEXEC = 0x00000001;
    public static final int FAN_NONBLOCK = 0x00000002;
    public static final int FAN_CLASS_NOTIF = 0x00000000;
    public static final int FAN_CLASS_CONTENT = 0x00000004;
    public static final int FAN_CLASS_PRE_CONTENT = 0x00000008;
    public static final int FAN_UNLIMITED_QUEUE = 0x00000010;
    public static final int FAN_UNLIMITED_MARKS = 0x00000020;
    public static final int FAN_ENABLE_AUDIT = 0x00000040;
    public static final int FAN_REPORT_PIDFD = 0x00000080;
    public static final int FAN_REPORT_TID = 0x00000100;
    public static final int FAN_REPORT_FID = 0x00000200;

    // event mask bits
    public static final long FAN_ACCESS = 0x00000001L;
    public static final long FAN_MODIFY = 0x00000002L;
    public static final long FAN_ATTRIB = 0x00000004L;
    public static final long FAN_CLOSE_WRITE = 0x00000008L;
    public static final long FAN_CLOSE_NOWRITE = 0x00000010L;
    public static final long FAN_OPEN = 0x00000020L;
    public static final long FAN_OPEN_EXEC = 0x00001000L;
    public static final long FAN_Q_OVERFLOW = 0x00004000L;
    public static final long FAN_FS_ERROR = 0x00008000L;
    public static final long FAN_OPEN_PERM = 0x00010000L;
    public static final long FAN_ACCESS_PERM = 0x00020000L;
    public static final long FAN_OPEN_EXEC_PERM = 0x00040000L;
    public static final long FAN_EVENT_ON_CHILD = 0x08000000L;
    public static final long FAN_ONDIR = 0x40000000L;
    /** Every permission event bit this module knows (FAN_ALL_PERM_EVENTS of the header, minus pre-content). */
    public static final long FAN_ALL_PERM_EVENTS = FAN_OPEN_PERM | FAN_ACCESS_PERM | FAN_OPEN_EXEC_PERM;

    // fanotify_mark flags
    public static final int FAN_MARK_ADD = 0x00000001;
    public static final int FAN_MARK_REMOVE = 0x00000002;
    public static final int FAN_MARK_DONT_FOLLOW = 0x00000004;
    public static final int FAN_MARK_ONLYDIR = 0x00000008;
    public static final int FAN_MARK_IGNORED_MASK = 0x00000020;
    public static final int FAN_MARK_IGNORED_SURV_MODIFY = 0x00000040;
    public static final int FAN_MARK_FLUSH = 0x00000080;
    public static final int FAN_MARK_EVICTABLE = 0x00000200;
    public static final int FAN_MARK_IGNORE = 0x00000400;
    public static final int FAN_MARK_INODE = 0x00000000;
    public static final int FAN_MARK_MOUNT = 0x00000010;
    public static final int FAN_MARK_FILESYSTEM = 0x00000100;
    public static final int FAN_MARK_IGNORE_SURV = FAN_MARK_IGNORE | FAN_MARK_IGNORED_SURV_MODIFY;

    // responses
    public static final int FAN_ALLOW = 0x01;
    public static final int FAN_DENY = 0x02;
    public static final int FAN_AUDIT = 0x10;

    // event metadata
    public static final int FANOTIFY_METADATA_VERSION = 3;
    public static final int FAN_NOFD = -1;
    public static final int FAN_NOPIDFD = FAN_NOFD;
    public static final int FAN_EPIDFD = -2;
    public static final int FAN_EVENT_INFO_TYPE_PIDFD = 4;
    /** {@code struct fanotify_event_info_fid}: fsid, then the object's {@code struct file_handle}. */
    public static final int FAN_EVENT_INFO_TYPE_FID = 1;

    /** {@code AT_FDCWD} from include/uapi/linux/fcntl.h. */
    public static final int AT_FDCWD = -100;

    private static final MethodHandle INIT = Native.withErrno("fanotify_init",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle MARK = Native.withErrno("fanotify_mark",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT, ADDRESS));

    private static volatile Availability availability;

    private Fanotify() {}

    /** {@code fanotify_init(flags, eventFFlags)}: the new group descriptor. */
    public static int init(int flags, int eventFFlags) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment err = Native.errnoSegment(arena);
            int fd = (int) INIT.invokeExact(err, flags, eventFFlags);
            if (fd < 0) {
                throw new LinuxException("fanotify_init", Native.errno(err),
                        "flags 0x" + Integer.toHexString(flags));
            }
            return fd;
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw Native.linkageBug(t);
        }
    }

    /**
     * {@code fanotify_mark(group, flags, mask, dirfd, path)}; {@code path} may be null to mark the object
     * {@code dirfd} refers to (e.g. an event's file).
     */
    public static void mark(int group, int flags, long mask, int dirfd, Path path) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment err = Native.errnoSegment(arena);
            MemorySegment p = path == null ? MemorySegment.NULL : arena.allocateFrom(path.toString());
            int rc = (int) MARK.invokeExact(err, group, flags, mask, dirfd, p);
            if (rc != 0) {
                throw new LinuxException("fanotify_mark", Native.errno(err),
                        (path == null ? "fd " + dirfd : path.toString()) + ", flags 0x" + Integer.toHexString(flags)
                                + ", mask 0x" + Long.toHexString(mask));
            }
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw Native.linkageBug(t);
        }
    }

    /**
     * Hot-path form of {@link #mark} on the object {@code fd} refers to (no path): 0 or the errno,
     * allocation-free with a caller-owned capture segment.
     */
    public static int markFd(MemorySegment err, int group, int flags, long mask, int fd) {
        try {
            int rc = (int) MARK.invokeExact(err, group, flags, mask, fd, MemorySegment.NULL);
            return rc == 0 ? 0 : Native.errno(err);
        } catch (Throwable t) {
            throw Native.linkageBug(t);
        }
    }

    /** Whether this process can create permission groups; see {@link #unavailabilityReason()}. */
    public static boolean isAvailable() {
        return availability().reason().isEmpty();
    }

    /** Why permission events cannot be used here, if they cannot. */
    public static Optional<String> unavailabilityReason() {
        return availability().reason();
    }

    /** Whether the kernel accepts {@code FAN_REPORT_PIDFD} for a content group (5.15+). */
    public static boolean supportsPidfd() {
        return availability().pidfd();
    }

    /** What the probe found; computed once by creating and closing throw-away groups. */
    public static Availability availability() {
        Availability a = availability;
        if (a == null) {
            a = probe();
            availability = a;
        }
        return a;
    }

    /** The probe's result: a reason when permission groups are impossible, and optional features. */
    public record Availability(Optional<String> reason, boolean pidfd, boolean unlimited) {}

    private static Availability probe() {
        int base = FAN_CLASS_CONTENT | FAN_CLOEXEC;
        int fd;
        try {
            fd = init(base, Fd.O_RDONLY);
        } catch (LinuxException e) {
            String why = switch (e.errnoValue()) {
                case Errno.EPERM -> "fanotify permission groups need CAP_SYS_ADMIN in the initial user namespace";
                case Errno.EINVAL -> "kernel has no CONFIG_FANOTIFY_ACCESS_PERMISSIONS (FAN_CLASS_CONTENT rejected)";
                case Errno.ENOSYS -> "kernel has no fanotify (CONFIG_FANOTIFY)";
                case Errno.EMFILE -> "too many fanotify groups for this user (fs.fanotify.max_user_groups)";
                default -> e.getMessage();
            };
            return new Availability(Optional.of(why), false, false);
        }
        Fd.closeQuietly(fd);
        boolean pidfd = tryInit(base | FAN_REPORT_PIDFD);
        boolean unlimited = tryInit(base | FAN_UNLIMITED_QUEUE | FAN_UNLIMITED_MARKS);
        return new Availability(Optional.empty(), pidfd, unlimited);
    }

    private static boolean tryInit(int flags) {
        try {
            Fd.closeQuietly(init(flags, Fd.O_RDONLY));
            return true;
        } catch (LinuxException e) {
            return false;
        }
    }

    /** Describes a mask with the header's names, for messages and logs (not for the hot path). */
    public static String maskName(long mask) {
        StringBuilder sb = new StringBuilder();
        long rest = mask;
        for (Bit bit : MASK_NAMES) {
            if ((rest & bit.value()) != 0) {
                sb.append(sb.isEmpty() ? "" : "|").append(bit.name());
                rest &= ~bit.value();
            }
        }
        if (rest != 0 || sb.isEmpty()) {
            sb.append(sb.isEmpty() ? "" : "|").append("0x").append(Long.toHexString(rest));
        }
        return sb.toString();
    }

    private record Bit(long value, String name) {}

    private static final List<Bit> MASK_NAMES = List.of(
            new Bit(FAN_ACCESS, "FAN_ACCESS"), new Bit(FAN_MODIFY, "FAN_MODIFY"), new Bit(FAN_ATTRIB, "FAN_ATTRIB"),
            new Bit(FAN_CLOSE_WRITE, "FAN_CLOSE_WRITE"), new Bit(FAN_CLOSE_NOWRITE, "FAN_CLOSE_NOWRITE"),
            new Bit(FAN_OPEN, "FAN_OPEN"), new Bit(FAN_OPEN_EXEC, "FAN_OPEN_EXEC"),
            new Bit(FAN_Q_OVERFLOW, "FAN_Q_OVERFLOW"), new Bit(FAN_FS_ERROR, "FAN_FS_ERROR"),
            new Bit(FAN_OPEN_PERM, "FAN_OPEN_PERM"), new Bit(FAN_ACCESS_PERM, "FAN_ACCESS_PERM"),
            new Bit(FAN_OPEN_EXEC_PERM, "FAN_OPEN_EXEC_PERM"), new Bit(FAN_EVENT_ON_CHILD, "FAN_EVENT_ON_CHILD"),
            new Bit(FAN_ONDIR, "FAN_ONDIR"));
}
