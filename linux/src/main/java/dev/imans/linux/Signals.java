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
    /** {@code SIG_DFL}: the kernel's default action. */
    private static final long SIG_DFL_ADDRESS = 0;
    /** {@code SIG_IGN}, include/uapi/asm-generic/signal-defs.h. */
    private static final MemorySegment SIG_IGN = MemorySegment.ofAddress(1);
    private static final MemorySegment SIG_ERR = MemorySegment.ofAddress(-1);

    private static final MethodHandle SIGNAL = Native.withErrno("signal",
            FunctionDescriptor.of(ADDRESS, JAVA_INT, ADDRESS));
    private static final MethodHandle SIGACTION = Native.withErrno("sigaction",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    /**
     * glibc's {@code struct sigaction} is 152 bytes on x86_64 and aarch64, {@code sa_handler} (a union
     * with {@code sa_sigaction}) first; a larger buffer costs nothing and only the handler is read.
     */
    private static final long SIGACTION_BYTES = 256;
    private static final MethodHandle TGKILL = Native.plain("tgkill",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle RTMIN = Native.plain("__libc_current_sigrtmin", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle RTMAX = Native.plain("__libc_current_sigrtmax", FunctionDescriptor.of(JAVA_INT));

    private Signals() {}

    /**
     * Whether {@code signo} is at its default action: no handler (the JVM's, an agent's, ours) and not
     * ignored. Only queries ({@code sigaction(signo, NULL, &old)}).
     */
    public static boolean isDefault(int signo) throws LinuxException {
        return handler(signo) == SIG_DFL_ADDRESS;
    }

    /**
     * Whether {@code signo} is ignored ({@code SIG_IGN}), as a process started by {@code nohup} (SIGHUP)
     * or in the background by a shell without job control (SIGINT, SIGQUIT) inherits it. Only queries.
     */
    public static boolean isIgnored(int signo) throws LinuxException {
        return handler(signo) == SIG_IGN.address();
    }

    private static long handler(int signo) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment err = Native.errnoSegment(arena);
            MemorySegment old = arena.allocate(SIGACTION_BYTES, 8);
            int rc = (int) SIGACTION.invokeExact(err, signo, MemorySegment.NULL, old);
            if (rc != 0) {
                throw new LinuxException("sigaction", Native.errno(err), "signal " + signo);
            }
            return old.get(ADDRESS, 0).address();
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw Native.linkageBug(t);
        }
    }

    /**
     * Whether thread {@code tid} belongs to thread group {@code tgid}: {@code tgkill(tgid, tid, 0)}, which
     * sends nothing and fails with ESRCH for a thread of another group (or none). One system call, no
     * /proc read; exact while the thread cannot exit (a thread blocked in a permission event cannot).
     */
    public static boolean isThreadOf(int tgid, int tid) {
        try {
            return (int) TGKILL.invokeExact(tgid, tid, 0) == 0;
        } catch (Throwable t) {
            throw Native.linkageBug(t);
        }
    }

    /** Puts {@code signo} back to its default action for the whole process. */
    public static void setDefault(int signo) throws LinuxException {
        set(signo, MemorySegment.NULL);
    }

    /**
     * The real-time signals applications may use, {@code SIGRTMIN..SIGRTMAX} as glibc defines them at
     * run time (the first kernel ones are glibc's own, for thread cancellation and setxid).
     */
    public static int[] realtimeRange() {
        try {
            int min = (int) RTMIN.invokeExact();
            int max = (int) RTMAX.invokeExact();
            return new int[] {min, max};
        } catch (Throwable t) {
            throw Native.linkageBug(t);
        }
    }

    /**
     * Ignores {@code signo} for the whole process. SIGIO must be: a lease (see {@link Leases}) that a
     * writer breaks makes the kernel send SIGIO to the lease holder's process, whose default action
     * terminates it, and the JVM installs no handler of its own.
     */
    public static void ignore(int signo) throws LinuxException {
        set(signo, SIG_IGN);
    }

    private static void set(int signo, MemorySegment handler) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment err = Native.errnoSegment(arena);
            MemorySegment old = (MemorySegment) SIGNAL.invokeExact(err, signo, handler);
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
