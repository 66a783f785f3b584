package dev.imans.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/** glibc's thread-safe {@code strerror_r} (GNU variant: returns the message pointer). */
final class StrError {
    private static final MethodHandle STRERROR_R = Native.plain("strerror_r",
            FunctionDescriptor.of(ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG));

    private StrError() {}

    static String of(int errno) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(256);
            MemorySegment msg = (MemorySegment) STRERROR_R.invokeExact(errno, buf, 256L);
            return msg.reinterpret(1024).getString(0);
        } catch (Throwable t) {
            throw Native.linkageBug(t);
        }
    }
}
