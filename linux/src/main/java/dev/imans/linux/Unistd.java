package dev.imans.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * The small calls every family needs: process ids, {@code read}, {@code write}, {@code pread},
 * {@code close}, {@code ioctl}.
 *
 * <p>These are raw: they return the call's result, or {@code -errno} on failure, and take the caller's
 * errno capture segment ({@link Native#errnoSegment}), so a hot loop can reuse one segment and never
 * allocate. The exception-throwing forms live in the families that give a call its meaning.
 */
public final class Unistd {
    private static final MethodHandle GETPID = Native.plain("getpid", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle GETTID = Native.plain("gettid", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle CLOSE = Native.withErrno("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle READ = Native.withErrno("read",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle WRITE = Native.withErrno("write",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle PREAD = Native.withErrno("pread64",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle DUP3 = Native.withErrno("dup3",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle FCNTL_LONG = Native.variadicWithErrno("fcntl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG), 2);
    private static final MethodHandle IOCTL_LONG = Native.variadicWithErrno("ioctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG), 2);
    private static final MethodHandle IOCTL_PTR = Native.variadicWithErrno("ioctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), 2);

    private Unistd() {}

    /** This process's id (its thread group id). */
    public static int getpid() {
        try {
            return (int) GETPID.invokeExact();
        } catch (Throwable t) {
            throw Native.linkageBug(t);
        }
    }

    /** The calling thread's kernel thread id. */
    public static int gettid() {
        try {
            return (int) GETTID.invokeExact();
        } catch (Throwable t) {
            throw Native.linkageBug(t);
        }
    }

    /** {@code fcntl(fd, cmd, arg)} with an integer argument: the result, or {@code -errno}. */
    public static int fcntl(MemorySegment err, int fd, int cmd, long arg) {
        try {
            int rc = (int) FCNTL_LONG.invokeExact(err, fd, cmd, arg);
            return rc >= 0 ? rc : -Native.errno(err);
        } catch (Throwable t) {
            throw Native.linkageBug(t);
        }
    }

    /** {@code close(fd)}: 0 or {@code -errno}. After a failed close the descriptor is gone anyway. */
    public static int close(MemorySegment err, int fd) {
        try {
            int rc = (int) CLOSE.invokeExact(err, fd);
            return rc == 0 ? 0 : -Native.errno(err);
        } catch (Throwable t) {
            throw Native.linkageBug(t);
        }
    }

    /**
     * {@code dup3(oldfd, newfd, O_CLOEXEC)}: atomically makes {@code newfd} refer to what {@code oldfd} refers
     * to, releasing its previous file; {@code newfd} or {@code -errno}. Replacing a descriptor this way (instead
     * of closing it) keeps its number taken, so a late write by another thread cannot hit a reused number.
     */
    public static int dup3(MemorySegment err, int oldfd, int newfd) {
        try {
            int rc = (int) DUP3.invokeExact(err, oldfd, newfd, Fd.O_CLOEXEC);
            return rc >= 0 ? rc : -Native.errno(err);
        } catch (Throwable t) {
            throw Native.linkageBug(t);
        }
    }

    /** {@code read(fd, buf, len)}: bytes read or {@code -errno}. */
    public static long read(MemorySegment err, int fd, MemorySegment buf, long len) {
        try {
            long n = (long) READ.invokeExact(err, fd, buf, len);
            return n >= 0 ? n : -Native.errno(err);
        } catch (Throwable t) {
            throw Native.linkageBug(t);
        }
    }

    /** {@code write(fd, buf, len)}: bytes written or {@code -errno}. */
    public static long write(MemorySegment err, int fd, MemorySegment buf, long len) {
        try {
            long n = (long) WRITE.invokeExact(err, fd, buf, len);
            return n >= 0 ? n : -Native.errno(err);
        } catch (Throwable t) {
            throw Native.linkageBug(t);
        }
    }

    /** {@code pread(fd, buf, len, offset)}: bytes read or {@code -errno}; the file offset is untouched. */
    public static long pread(MemorySegment err, int fd, MemorySegment buf, long len, long offset) {
        try {
            long n = (long) PREAD.invokeExact(err, fd, buf, len, offset);
            return n >= 0 ? n : -Native.errno(err);
        } catch (Throwable t) {
            throw Native.linkageBug(t);
        }
    }

    /** {@code ioctl(fd, request, arg)} with an integer argument: the result or {@code -errno}. */
    public static int ioctl(MemorySegment err, int fd, long request, long arg) {
        try {
            int rc = (int) IOCTL_LONG.invokeExact(err, fd, request, arg);
            return rc >= 0 ? rc : -Native.errno(err);
        } catch (Throwable t) {
            throw Native.linkageBug(t);
        }
    }

    /** {@code ioctl(fd, request, ptr)} with a pointer argument: the result or {@code -errno}. */
    public static int ioctl(MemorySegment err, int fd, long request, MemorySegment arg) {
        try {
            int rc = (int) IOCTL_PTR.invokeExact(err, fd, request, arg);
            return rc >= 0 ? rc : -Native.errno(err);
        } catch (Throwable t) {
            throw Native.linkageBug(t);
        }
    }
}
