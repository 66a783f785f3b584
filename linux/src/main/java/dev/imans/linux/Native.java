package dev.imans.linux;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * Shared plumbing for the syscall-family classes: libc lookup and errno capture.
 *
 * <p>errno is captured by the downcall itself ({@code captureCallState}) into a segment the caller
 * owns, never a static one, so concurrent threads cannot read each other's errno. The captured value
 * is meaningful only when the call reported failure.
 */
public final class Native {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            CAPTURE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    private Native() {}

    /** A downcall to the libc function {@code name} that captures errno into its first argument. */
    public static MethodHandle withErrno(String name, FunctionDescriptor descriptor) {
        MemorySegment symbol = LIBC.find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libc has no symbol " + name));
        return LINKER.downcallHandle(symbol, descriptor, Linker.Option.captureCallState("errno"));
    }

    /** A variadic downcall ({@code open}, {@code fcntl}, {@code ioctl}) whose fixed part ends at {@code fixedArgs}. */
    public static MethodHandle variadicWithErrno(String name, FunctionDescriptor descriptor, int fixedArgs) {
        MemorySegment symbol = LIBC.find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libc has no symbol " + name));
        return LINKER.downcallHandle(symbol, descriptor,
                Linker.Option.firstVariadicArg(fixedArgs), Linker.Option.captureCallState("errno"));
    }

    /** A downcall that cannot fail and so needs no errno. */
    public static MethodHandle plain(String name, FunctionDescriptor descriptor) {
        MemorySegment symbol = LIBC.find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libc has no symbol " + name));
        return LINKER.downcallHandle(symbol, descriptor);
    }

    /** A fresh errno capture segment in {@code arena}. */
    public static MemorySegment errnoSegment(Arena arena) {
        return arena.allocate(CAPTURE_LAYOUT);
    }

    public static int errno(MemorySegment capture) {
        return (int) ERRNO.get(capture, 0L);
    }

    /** Turns a throwable from {@code invokeExact} into an unchecked error: it only happens on a binding bug. */
    static AssertionError linkageBug(Throwable t) {
        return new AssertionError("native binding failed: " + t, t);
    }
}
