package dev.imans.linux;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/** An {@code eventfd(2)} counter used to wake a thread blocked in {@link Poll}. */
public final class EventFd implements AutoCloseable {
    /** include/uapi/linux/eventfd.h (same values as O_CLOEXEC and O_NONBLOCK). */
    public static final int EFD_CLOEXEC = Fd.O_CLOEXEC;
    public static final int EFD_NONBLOCK = Fd.O_NONBLOCK;

    private static final MethodHandle EVENTFD = Native.withErrno("eventfd",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));

    private final Fd fd;

    private EventFd(Fd fd) {
        this.fd = fd;
    }

    public static EventFd create() throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment err = Native.errnoSegment(arena);
            int fd = (int) EVENTFD.invokeExact(err, 0, EFD_CLOEXEC | EFD_NONBLOCK);
            if (fd < 0) {
                throw new LinuxException("eventfd", Native.errno(err), null);
            }
            return new EventFd(Fd.adopt(fd));
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw Native.linkageBug(t);
        }
    }

    public int fd() {
        return fd.value();
    }

    /** Adds one to the counter: the descriptor becomes readable (POLLIN). */
    public void signal() throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment one = arena.allocateFrom(JAVA_LONG, 1L);
            long n = Unistd.write(Native.errnoSegment(arena), fd.value(), one, 8);
            if (n < 0 && n != -Errno.EAGAIN) {
                throw new LinuxException("write", (int) -n, "eventfd " + fd.value());
            }
        }
    }

    @Override
    public void close() {
        fd.close();
    }
}
