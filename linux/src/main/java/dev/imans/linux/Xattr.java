package dev.imans.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Extended attributes by path and by descriptor ({@code getxattr(2)}, {@code setxattr(2)},
 * {@code removexattr(2)} and their {@code f*} forms).
 *
 * <p>An absent attribute is {@link Optional#empty()}, not an exception: for IMA "no
 * {@code security.ima}" is an ordinary state with its own audit cause. So is one on a filesystem that
 * has no extended attributes at all (EOPNOTSUPP), as for the kernel.
 */
public final class Xattr {
    /** Linux's limit on one attribute value (XATTR_SIZE_MAX, include/uapi/linux/limits.h). */
    public static final int SIZE_MAX = 65536;
    public static final String SECURITY_IMA = "security.ima";
    public static final String SECURITY_EVM = "security.evm";

    private static final MethodHandle GETXATTR = Native.withErrno("getxattr",
            FunctionDescriptor.of(JAVA_LONG, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG));
    private static final MethodHandle FGETXATTR = Native.withErrno("fgetxattr",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG));
    private static final MethodHandle FLISTXATTR = Native.withErrno("flistxattr",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle SETXATTR = Native.withErrno("setxattr",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle FSETXATTR = Native.withErrno("fsetxattr",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle REMOVEXATTR = Native.withErrno("removexattr",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle FREMOVEXATTR = Native.withErrno("fremovexattr",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));

    private Xattr() {}

    /** The value of {@code name} on the file at {@code path} (following links), if present. */
    public static Optional<byte[]> get(Path path, String name) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment err = Native.errnoSegment(arena);
            MemorySegment buf = arena.allocate(SIZE_MAX);
            long n = (long) GETXATTR.invokeExact(err, arena.allocateFrom(path.toString()),
                    arena.allocateFrom(name), buf, (long) SIZE_MAX);
            return result(n, Native.errno(err), buf, "getxattr", path + ", " + name);
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw Native.linkageBug(t);
        }
    }

    /**
     * The first read's buffer: every IMA and EVM label fits (an RSA-4096 signature takes 520 bytes). The
     * kernel allocates and zeroes a buffer of the size asked for at each call (vfs_getxattr), which cost
     * more than the read itself at {@link #SIZE_MAX}; a larger value is read again at that size.
     */
    private static final int FIRST_TRY = 1024;

    /** Per thread, what a read by descriptor needs: nothing is allocated for a value that fits. */
    private static final class Scratch {
        final Arena arena = Arena.ofAuto();
        final MemorySegment err = Native.errnoSegment(arena);
        final MemorySegment buf = arena.allocate(FIRST_TRY);
        final MemorySegment ima = arena.allocateFrom(SECURITY_IMA);
        final MemorySegment evm = arena.allocateFrom(SECURITY_EVM);
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /** The value of {@code name} on the open file {@code fd}, if present. */
    public static Optional<byte[]> get(int fd, String name) throws LinuxException {
        Scratch s = SCRATCH.get();
        MemorySegment cname = name.equals(SECURITY_IMA) ? s.ima : name.equals(SECURITY_EVM) ? s.evm : null;
        if (cname != null) {
            long n;
            try {
                n = (long) FGETXATTR.invokeExact(s.err, fd, cname, s.buf, (long) FIRST_TRY);
            } catch (Throwable t) {
                throw Native.linkageBug(t);
            }
            int errno = n < 0 ? Native.errno(s.err) : 0;
            if (n >= 0 || errno != Errno.ERANGE) {
                return result(n, errno, s.buf, "fgetxattr", "fd " + fd + ", " + name);
            }
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment err = Native.errnoSegment(arena);
            MemorySegment buf = arena.allocate(SIZE_MAX);
            long n = (long) FGETXATTR.invokeExact(err, fd, arena.allocateFrom(name), buf, (long) SIZE_MAX);
            return result(n, Native.errno(err), buf, "fgetxattr", "fd " + fd + ", " + name);
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw Native.linkageBug(t);
        }
    }

    /**
     * The names of the attributes on the open file {@code fd} that this process may see, in the
     * filesystem's order; empty when the filesystem has no extended attributes (EOPNOTSUPP).
     */
    public static List<String> list(int fd) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment err = Native.errnoSegment(arena);
            MemorySegment buf = arena.allocate(SIZE_MAX);
            long n = (long) FLISTXATTR.invokeExact(err, fd, buf, (long) SIZE_MAX);
            if (n < 0) {
                int errno = Native.errno(err);
                if (errno == Errno.EOPNOTSUPP) {
                    return List.of();
                }
                throw new LinuxException("flistxattr", errno, "fd " + fd);
            }
            List<String> names = new ArrayList<>();
            long start = 0;
            for (long i = 0; i < n; i++) {
                if (buf.get(ValueLayout.JAVA_BYTE, i) == 0) {
                    names.add(new String(buf.asSlice(start, i - start).toArray(ValueLayout.JAVA_BYTE),
                            StandardCharsets.UTF_8));
                    start = i + 1;
                }
            }
            return names;
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw Native.linkageBug(t);
        }
    }

    public static void set(Path path, String name, byte[] value) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment err = Native.errnoSegment(arena);
            int rc = (int) SETXATTR.invokeExact(err, arena.allocateFrom(path.toString()),
                    arena.allocateFrom(name), bytes(arena, value), (long) value.length, 0);
            if (rc != 0) {
                throw new LinuxException("setxattr", Native.errno(err), path + ", " + name);
            }
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw Native.linkageBug(t);
        }
    }

    public static void set(int fd, String name, byte[] value) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment err = Native.errnoSegment(arena);
            int rc = (int) FSETXATTR.invokeExact(err, fd, arena.allocateFrom(name),
                    bytes(arena, value), (long) value.length, 0);
            if (rc != 0) {
                throw new LinuxException("fsetxattr", Native.errno(err), "fd " + fd + ", " + name);
            }
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw Native.linkageBug(t);
        }
    }

    /** Removes {@code name}; returns false if it was not there. */
    public static boolean remove(Path path, String name) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment err = Native.errnoSegment(arena);
            int rc = (int) REMOVEXATTR.invokeExact(err, arena.allocateFrom(path.toString()),
                    arena.allocateFrom(name));
            if (rc == 0) {
                return true;
            }
            int errno = Native.errno(err);
            if (errno == Errno.ENODATA) {
                return false;
            }
            throw new LinuxException("removexattr", errno, path + ", " + name);
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw Native.linkageBug(t);
        }
    }

    /** Removes {@code name} from the open file {@code fd}; returns false if it was not there. */
    public static boolean remove(int fd, String name) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment err = Native.errnoSegment(arena);
            int rc = (int) FREMOVEXATTR.invokeExact(err, fd, arena.allocateFrom(name));
            if (rc == 0) {
                return true;
            }
            int errno = Native.errno(err);
            if (errno == Errno.ENODATA) {
                return false;
            }
            throw new LinuxException("fremovexattr", errno, "fd " + fd + ", " + name);
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw Native.linkageBug(t);
        }
    }

    private static MemorySegment bytes(Arena arena, byte[] value) {
        MemorySegment seg = arena.allocate(Math.max(1, value.length));
        MemorySegment.copy(value, 0, seg, ValueLayout.JAVA_BYTE, 0, value.length);
        return seg;
    }

    private static Optional<byte[]> result(long n, int errno, MemorySegment buf, String call, String subject)
            throws LinuxException {
        if (n >= 0) {
            return Optional.of(buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE));
        }
        // A filesystem without extended attributes (hugetlbfs, vfat) has none to give: the kernel's
        // ima_read_xattr reads EOPNOTSUPP as "no label", and so does every reader here.
        if (errno == Errno.ENODATA || errno == Errno.EOPNOTSUPP) {
            return Optional.empty();
        }
        throw new LinuxException(call, errno, subject);
    }
}
