package dev.imans.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * {@code memfd_create(2)}: an anonymous file on the kernel's internal tmpfs ({@code shm_mnt}, mounted
 * with {@code SB_KERNMOUNT}, so {@code shmem_fill_super} sets {@code SB_NOUSER} on it). Its descriptor
 * is the only way userspace can name that filesystem.
 */
public final class Memfd {
    public static final int MFD_CLOEXEC = 0x0001;
    public static final int MFD_ALLOW_SEALING = 0x0002;
    /** Linux 6.3: created without the executable bits and sealed so they cannot be added. */
    public static final int MFD_NOEXEC_SEAL = 0x0008;
    public static final int MFD_EXEC = 0x0010;

    private static final MethodHandle CREATE = Native.withErrno("memfd_create",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));

    private Memfd() {}

    /** A new memfd named {@code name} (shown as {@code /memfd:name}). */
    public static Fd create(String name, int flags) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment err = Native.errnoSegment(arena);
            int fd = (int) CREATE.invokeExact(err, arena.allocateFrom(name), flags);
            if (fd < 0) {
                throw new LinuxException("memfd_create", Native.errno(err), name);
            }
            return Fd.adopt(fd);
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw Native.linkageBug(t);
        }
    }
}
