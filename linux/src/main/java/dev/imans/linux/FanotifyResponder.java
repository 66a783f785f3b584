package dev.imans.linux;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/**
 * Writes {@code struct fanotify_response} answers to a permission group, reusing one native buffer.
 *
 * <pre>
 * struct fanotify_response {     include/uapi/linux/fanotify.h
 *   0  __s32 fd;                 the event's fd number: the kernel matches the answer by it
 *   4  __u32 response;           FAN_ALLOW | FAN_DENY, optionally | FAN_AUDIT
 * };                             8 bytes, one answer per write(2)
 * </pre>
 *
 * <p>One instance per thread: the buffer is not shared. The kernel accepts answers in any order.
 */
public final class FanotifyResponder implements AutoCloseable {
    public static final StructLayout RESPONSE = MemoryLayout.structLayout(
            JAVA_INT.withName("fd"), JAVA_INT.withName("response"));
    private static final long OFF_FD = RESPONSE.byteOffset(MemoryLayout.PathElement.groupElement("fd"));
    private static final long OFF_RESPONSE = RESPONSE.byteOffset(MemoryLayout.PathElement.groupElement("response"));

    private final Arena arena = Arena.ofShared();
    private final MemorySegment response = arena.allocate(RESPONSE);
    private final MemorySegment err = Native.errnoSegment(arena);

    /**
     * Answers the event whose descriptor is {@code eventFd}: 0, or the errno ({@code ENOENT}: no such
     * pending event; {@code EINVAL}: bad response bits, e.g. FAN_AUDIT without FAN_ENABLE_AUDIT).
     */
    public int respond(int groupFd, int eventFd, int answer) {
        response.set(JAVA_INT, OFF_FD, eventFd);
        response.set(JAVA_INT, OFF_RESPONSE, answer);
        long n = Unistd.write(err, groupFd, response, RESPONSE.byteSize());
        return n >= 0 ? 0 : (int) -n;
    }

    /** Closes a descriptor of an answered event (its fd or pidfd) without allocating. */
    public void closeFd(int fd) {
        if (fd >= 0) {
            Unistd.close(err, fd);
        }
    }

    @Override
    public void close() {
        arena.close();
    }
}
