package dev.imans.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Facts about a process from {@code /proc} (the kernel refuses permission marks on procfs, so reading
 * it never raises fanotify events) and {@code readlink(2)}.
 *
 * <p>Each read is one {@code open}/{@code read}/{@code close} into a native page: no streams, no
 * charset decoders beyond the final string.
 */
public final class Proc {
    /** {@code AUDIT_UID_UNSET} / unset session: (u32)-1, include/linux/audit.h. */
    public static final long AUDIT_UNSET = 0xffffffffL;
    private static final int PAGE = 4096;
    private static final MethodHandle READLINK = Native.withErrno("readlink",
            FunctionDescriptor.of(JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG));

    private Proc() {}

    /** {@code /proc/PID/comm} without the newline (at most 15 bytes, the task name). */
    public static String comm(int pid) throws LinuxException {
        return readSmall("/proc/" + pid + "/comm").strip();
    }

    /** {@code /proc/PID/loginuid}, the audit uid ("auid"); {@link #AUDIT_UNSET} when never set. */
    public static long loginUid(int pid) throws LinuxException {
        return Long.parseLong(readSmall("/proc/" + pid + "/loginuid").strip());
    }

    /** {@code /proc/PID/sessionid}, the audit session; {@link #AUDIT_UNSET} when never set. */
    public static long sessionId(int pid) throws LinuxException {
        return Long.parseLong(readSmall("/proc/" + pid + "/sessionid").strip());
    }

    /** Ids and effective capabilities from {@code /proc/PID/status}. */
    public static ProcStatus status(int pid) throws LinuxException {
        return ProcStatus.parse(readSmall("/proc/" + pid + "/status"));
    }

    /** The path of this process's descriptor {@code fd} ({@code readlink /proc/self/fd/N}): display only. */
    public static String fdPath(int fd) throws LinuxException {
        return readlink("/proc/self/fd/" + fd);
    }

    /** {@code /proc/PID/exe}: the executable, as a path in the reader's view. */
    public static String exe(int pid) throws LinuxException {
        return readlink("/proc/" + pid + "/exe");
    }

    /** {@code readlink(2)} of {@code path}. */
    public static String readlink(String path) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment err = Native.errnoSegment(arena);
            MemorySegment buf = arena.allocate(PAGE);
            long n = (long) READLINK.invokeExact(err, arena.allocateFrom(path), buf, (long) PAGE);
            if (n < 0) {
                throw new LinuxException("readlink", Native.errno(err), path);
            }
            return new String(buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw Native.linkageBug(t);
        }
    }

    /** The whole content of a small file (up to one page: enough for status, comm, ids), as text. */
    public static String readSmall(String path) throws LinuxException {
        try (Fd fd = Fd.open(Path.of(path), Fd.O_RDONLY); Arena arena = Arena.ofConfined()) {
            MemorySegment err = Native.errnoSegment(arena);
            MemorySegment buf = arena.allocate(PAGE);
            long total = 0;
            while (total < PAGE) {
                long n = Unistd.read(err, fd.value(), buf.asSlice(total), PAGE - total);
                if (n == -Errno.EINTR) {
                    continue;
                }
                if (n < 0) {
                    throw new LinuxException("read", (int) -n, path);
                }
                if (n == 0) {
                    break;
                }
                total += n;
            }
            return new String(buf.asSlice(0, total).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
        }
    }
}
