package dev.imans.linux;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static java.lang.foreign.ValueLayout.ADDRESS;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;

/**
 * {@code poll(2)} over a fixed set of descriptors with a reusable {@code struct pollfd} array, e.g. a
 * fanotify group plus a wake-up {@link EventFd}, or {@code /proc/PID/mountinfo} (POLLPRI|POLLERR when
 * the mount table changes).
 *
 * <pre>
 * struct pollfd { int fd; short events; short revents; };   include/uapi/asm-generic/poll.h, 8 bytes
 * </pre>
 *
 * One instance belongs to one thread.
 */
public final class Poll implements AutoCloseable {
    public static final short POLLIN = 0x0001;
    public static final short POLLPRI = 0x0002;
    public static final short POLLOUT = 0x0004;
    public static final short POLLERR = 0x0008;
    public static final short POLLHUP = 0x0010;
    public static final short POLLNVAL = 0x0020;

    public static final StructLayout POLLFD = MemoryLayout.structLayout(
            JAVA_INT.withName("fd"), JAVA_SHORT.withName("events"), JAVA_SHORT.withName("revents"));
    private static final long OFF_FD = POLLFD.byteOffset(MemoryLayout.PathElement.groupElement("fd"));
    private static final long OFF_EVENTS = POLLFD.byteOffset(MemoryLayout.PathElement.groupElement("events"));
    private static final long OFF_REVENTS = POLLFD.byteOffset(MemoryLayout.PathElement.groupElement("revents"));

    private static final MethodHandle POLL = Native.withErrno("poll",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));

    private final Arena arena = Arena.ofShared();
    private final int count;
    private final MemorySegment fds;
    private final MemorySegment err = Native.errnoSegment(arena);

    /** A set of {@code count} entries, all unused (fd -1) until {@link #set}. */
    public Poll(int count) {
        this.count = count;
        this.fds = arena.allocate(POLLFD, count);
        for (int i = 0; i < count; i++) {
            set(i, -1, 0);
        }
    }

    public void set(int index, int fd, int events) {
        long base = index * POLLFD.byteSize();
        fds.set(JAVA_INT, base + OFF_FD, fd);
        fds.set(JAVA_SHORT, base + OFF_EVENTS, (short) events);
        fds.set(JAVA_SHORT, base + OFF_REVENTS, (short) 0);
    }

    /** Waits up to {@code timeoutMillis} (-1: forever): the number of ready entries, 0 on timeout, or {@code -errno}. */
    public int await(int timeoutMillis) {
        try {
            int n = (int) POLL.invokeExact(err, fds, (long) count, timeoutMillis);
            return n >= 0 ? n : -Native.errno(err);
        } catch (Throwable t) {
            throw Native.linkageBug(t);
        }
    }

    /** The events the last {@link #await} reported for entry {@code index}. */
    public int revents(int index) {
        return fds.get(JAVA_SHORT, index * POLLFD.byteSize() + OFF_REVENTS) & 0xffff;
    }

    /** One-shot convenience: waits for {@code events} on {@code fd}; the revents, 0 on timeout. */
    public static int one(int fd, int events, int timeoutMillis) throws LinuxException {
        try (Poll p = new Poll(1)) {
            p.set(0, fd, events);
            int n;
            do {
                n = p.await(timeoutMillis);
            } while (n == -Errno.EINTR);
            if (n < 0) {
                throw new LinuxException("poll", -n, "fd " + fd);
            }
            return n == 0 ? 0 : p.revents(0);
        }
    }

    @Override
    public void close() {
        arena.close();
    }
}
