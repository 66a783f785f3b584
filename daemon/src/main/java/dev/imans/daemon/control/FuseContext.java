package dev.imans.daemon.control;

import dev.imans.daemon.ns.Caller;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;

/**
 * The caller of the FUSE request being served, from libfuse's {@code fuse_get_context()}.
 *
 * <p>jfuse does not expose it, so it is bound here directly against the same library jfuse loads.
 * The context is thread-local to the thread running the request, which is the FUSE loop thread
 * (the filesystem is mounted single-threaded), so it must be read inside the callback.
 */
final class FuseContext {
    /*
     * struct fuse_context (include/fuse3/fuse.h):
     *   struct fuse *fuse @0; uid_t uid @8; gid_t gid @12; pid_t pid @16;
     *   void *private_data @24; mode_t umask @32.
     */
    private static final long UID = 8;
    private static final long GID = 12;
    private static final long PID = 16;
    private static final long SIZE = 40;

    private final MethodHandle getContext;

    FuseContext(Path library) {
        SymbolLookup lib = SymbolLookup.libraryLookup(library, Arena.global());
        MemorySegment symbol = lib.find("fuse_get_context")
                .orElseThrow(() -> new UnsatisfiedLinkError(library + " has no fuse_get_context"));
        getContext = Linker.nativeLinker().downcallHandle(symbol, FunctionDescriptor.of(ADDRESS));
    }

    /** The caller of the request this thread is serving. */
    Caller current() {
        MemorySegment ctx;
        try {
            ctx = (MemorySegment) getContext.invokeExact();
        } catch (Throwable t) {
            throw new AssertionError("fuse_get_context binding failed: " + t, t);
        }
        if (ctx.equals(MemorySegment.NULL)) {
            return new Caller(0, -1, -1);
        }
        ctx = ctx.reinterpret(SIZE);
        return new Caller(Integer.toUnsignedLong(ctx.get(JAVA_INT, PID)),
                ctx.get(JAVA_INT, UID), ctx.get(JAVA_INT, GID));
    }
}
