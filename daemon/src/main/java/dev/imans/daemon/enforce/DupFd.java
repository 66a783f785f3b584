package dev.imans.daemon.enforce;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import dev.imans.linux.Fd;
import dev.imans.linux.LinuxException;
import dev.imans.linux.Native;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * {@code fcntl(fd, F_DUPFD_CLOEXEC, 0)}: a second descriptor on the same open file. Used to keep an event
 * descriptor's file (opened by the kernel with FMODE_NONOTIFY, read-only, so it counts as no writer
 * and raises no events) after the engine has closed the original.
 */
final class DupFd {
    private static final int F_DUPFD_CLOEXEC = 1030;
    private static final MethodHandle FCNTL = Native.variadicWithErrno("fcntl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), 2);

    private DupFd() {}

    static Fd dup(int fd) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment err = Native.errnoSegment(arena);
            int rc = (int) FCNTL.invokeExact(err, fd, F_DUPFD_CLOEXEC, 0);
            if (rc < 0) {
                throw new LinuxException("fcntl(F_DUPFD_CLOEXEC)", Native.errno(err), "fd " + fd);
            }
            return Fd.adopt(rc);
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError("fcntl binding failed: " + t, t);
        }
    }
}
