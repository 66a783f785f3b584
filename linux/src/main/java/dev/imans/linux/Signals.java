package dev.imans.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/** Process signal dispositions ({@code signal(2)}), for the few signals the JVM leaves at their default. */
public final class Signals {
    /** include/uapi/asm-generic/signal.h (x86_64 and aarch64). */
    public static final int SIGIO = 29;
    /** {@code SIG_IGN}, include/uapi/asm-generic/signal-defs.h. */
    private static final MemorySegment SIG_IGN = MemorySegment.ofAddress(1);
    private static final MemorySegment SIG_ERR = MemorySegment.ofAddress(-1);

    private static final MethodHandle SIGNAL = Native.withErrno("signal",
            FunctionDescriptor.of(ADDRESS, JAVA_INT, ADDRESS));

    private Signals() {}

    /**
     * Ignores {@code signo} for the whole process. SIGIO must be: a lease (see {@link Leases}) that a
     * writer breaks makes the kernel send SIGIO to the lease holder's process, whose default action
     * terminates it, and the JVM installs no handler of its own.
     */
    public static void ignore(int signo) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment err = Native.errnoSegment(arena);
            MemorySegment old = (MemorySegment) SIGNAL.invokeExact(err, signo, SIG_IGN);
            if (old.address() == SIG_ERR.address()) {
                throw new LinuxException("signal", Native.errno(err), "signal " + signo);
            }
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw Native.linkageBug(t);
        }
    }
}
