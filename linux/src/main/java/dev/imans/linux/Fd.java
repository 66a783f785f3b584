package dev.imans.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;

/**
 * An owned file descriptor from {@code open(2)}; closing it closes the descriptor once.
 *
 * <p>The JDK does not expose the descriptor number of its own streams without reflection, so
 * the native families take plain {@code int} descriptors and this class is how callers get one.
 */
public final class Fd implements AutoCloseable {
    /** Flags from include/uapi/asm-generic/fcntl.h (x86_64 and aarch64 agree). */
    public static final int O_RDONLY = 0;
    public static final int O_WRONLY = 1;
    public static final int O_RDWR = 2;
    public static final int O_CREAT = 0100;
    public static final int O_NOCTTY = 0400;
    public static final int O_TRUNC = 01000;
    public static final int O_APPEND = 02000;
    public static final int O_NONBLOCK = 04000;
    public static final int O_LARGEFILE = 0100000;
    public static final int O_DIRECTORY = 0200000;
    public static final int O_NOFOLLOW = 0400000;
    public static final int O_NOATIME = 01000000;
    public static final int O_CLOEXEC = 02000000;
    public static final int O_PATH = 010000000;

    private static final MethodHandle OPEN = Native.variadicWithErrno("open",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), 2);
    private static final MethodHandle CLOSE = Native.withErrno("close",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT));

    private final int fd;
    private boolean closed;

    private Fd(int fd) {
        this.fd = fd;
    }

    /** Takes ownership of a descriptor obtained elsewhere (e.g. from a fanotify event). */
    public static Fd adopt(int fd) {
        return new Fd(fd);
    }

    public static Fd open(Path path, int flags) throws LinuxException {
        return open(path, flags, 0);
    }

    public static Fd open(Path path, int flags, int mode) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment err = Native.errnoSegment(arena);
            int fd = (int) OPEN.invokeExact(err, arena.allocateFrom(path.toString()), flags | O_CLOEXEC, mode);
            if (fd < 0) {
                throw new LinuxException("open", Native.errno(err), path.toString());
            }
            return new Fd(fd);
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw Native.linkageBug(t);
        }
    }

    /** Closes a raw descriptor, ignoring errors (after close(2) fails the fd is gone anyway). */
    public static void closeQuietly(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            int rc = (int) CLOSE.invokeExact(Native.errnoSegment(arena), fd);
            assert rc == 0 || rc == -1;
        } catch (Throwable t) {
            throw Native.linkageBug(t);
        }
    }

    public int value() {
        if (closed) {
            throw new IllegalStateException("descriptor " + fd + " is closed");
        }
        return fd;
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            closeQuietly(fd);
        }
    }

    @Override
    public String toString() {
        return "fd " + fd;
    }
}
