package dev.imans.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;

/**
 * The {@code bpf(2)} commands a BPF LSM program needs, with {@code union bpf_attr} laid out as
 * include/uapi/linux/bpf.h has it (offsets checked against the header on x86_64; the union is the same
 * on every 64-bit architecture).
 */
public final class Bpf {
    static final int MAP_CREATE = 0;
    static final int MAP_LOOKUP_ELEM = 1;
    static final int MAP_UPDATE_ELEM = 2;
    static final int MAP_DELETE_ELEM = 3;
    static final int PROG_LOAD = 5;
    static final int RAW_TRACEPOINT_OPEN = 17;

    public static final int MAP_TYPE_HASH = 1;
    public static final int MAP_TYPE_ARRAY = 2;
    public static final int MAP_TYPE_RINGBUF = 27;
    public static final int PROG_TYPE_TRACING = 26;
    public static final int ATTACH_TRACE_RAW_TP = 23;

    /** Room for the verifier's log on a refusal: what it says is the only explanation the kernel gives. */
    private static final int LOG_SIZE = 4 * 1024 * 1024;
    private static final long ATTR_SIZE = 144;

    private static final long SYS_BPF = switch (System.getProperty("os.arch")) {
        case "aarch64" -> 280;
        case "amd64", "x86_64" -> 321;
        default -> -1;
    };

    private static final MethodHandle SYSCALL = Native.variadicWithErrno("syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT), 1);
    private static final MethodHandle MMAP = Native.withErrno("mmap",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle MUNMAP = Native.withErrno("munmap",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));

    public static final int PROT_READ = 1;
    public static final int PROT_WRITE = 2;
    private static final int MAP_SHARED = 1;

    private Bpf() {}

    /** A failed program load: the errno and the verifier's log, which says which instruction and why. */
    public static final class LoadException extends LinuxException {
        private final String log;

        LoadException(int errno, String log) {
            super("bpf(BPF_PROG_LOAD)", errno, null);
            this.log = log;
        }

        public String verifierLog() {
            return log;
        }
    }

    private static long call(int cmd, MemorySegment attr, MemorySegment err) throws Throwable {
        if (SYS_BPF < 0) {
            throw new LinuxException("bpf", Errno.ENOSYS, "no syscall number for " + System.getProperty("os.arch"));
        }
        return (long) SYSCALL.invokeExact(err, SYS_BPF, cmd, attr, (int) ATTR_SIZE);
    }

    /** A new map; {@code name} is at most 15 characters (shown by bpftool). */
    public static Fd mapCreate(int type, int keySize, int valueSize, int maxEntries, String name) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(ATTR_SIZE, 8);
            attr.set(JAVA_INT, 0, type);
            attr.set(JAVA_INT, 4, keySize);
            attr.set(JAVA_INT, 8, valueSize);
            attr.set(JAVA_INT, 12, maxEntries);
            putName(attr, 28, name);
            MemorySegment err = Native.errnoSegment(arena);
            long fd = call(MAP_CREATE, attr, err);
            if (fd < 0) {
                throw new LinuxException("bpf(BPF_MAP_CREATE)", Native.errno(err), name);
            }
            return Fd.adopt((int) fd);
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw Native.linkageBug(t);
        }
    }

    /** Sets {@code key}'s value (both as the map's sizes say), creating the entry if needed. */
    public static void mapUpdate(Fd map, byte[] key, byte[] value) throws LinuxException {
        elem(MAP_UPDATE_ELEM, "BPF_MAP_UPDATE_ELEM", map, key, value);
    }

    /** Removes {@code key}; false if it was not there. */
    public static boolean mapDelete(Fd map, byte[] key) throws LinuxException {
        try {
            elem(MAP_DELETE_ELEM, "BPF_MAP_DELETE_ELEM", map, key, null);
            return true;
        } catch (LinuxException e) {
            if (e.errnoValue() == Errno.ENOENT) {
                return false;
            }
            throw e;
        }
    }

    /** {@code key}'s value into {@code value}; false if the key is not there. */
    public static boolean mapLookup(Fd map, byte[] key, byte[] value) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(value.length);
            try {
                elem(MAP_LOOKUP_ELEM, "BPF_MAP_LOOKUP_ELEM", map, key, out, arena);
            } catch (LinuxException e) {
                if (e.errnoValue() == Errno.ENOENT) {
                    return false;
                }
                throw e;
            }
            MemorySegment.copy(out, JAVA_BYTE, 0, value, 0, value.length);
            return true;
        }
    }

    private static void elem(int cmd, String name, Fd map, byte[] key, byte[] value) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            elem(cmd, name, map, key, value == null ? MemorySegment.NULL : arena.allocateFrom(JAVA_BYTE, value), arena);
        }
    }

    private static void elem(int cmd, String name, Fd map, byte[] key, MemorySegment value, Arena arena)
            throws LinuxException {
        try {
            MemorySegment attr = arena.allocate(ATTR_SIZE, 8);
            attr.set(JAVA_INT, 0, map.value());
            attr.set(JAVA_LONG, 8, arena.allocateFrom(JAVA_BYTE, key).address());
            attr.set(JAVA_LONG, 16, value.address());
            MemorySegment err = Native.errnoSegment(arena);
            if (call(cmd, attr, err) < 0) {
                throw new LinuxException("bpf(" + name + ")", Native.errno(err), "map fd " + map.value());
            }
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw Native.linkageBug(t);
        }
    }

    /**
     * Loads a program of {@code type}; on refusal the exception carries the verifier's log.
     *
     * @param insns the instructions, 8 bytes each, as {@link BpfAsm} assembles them
     * @param attachBtfId the kernel function it attaches to (LSM and tracing programs), else 0
     */
    public static Fd progLoad(int type, int expectedAttachType, int attachBtfId, byte[] insns, String name)
            throws LinuxException {
        // As libbpf does: without a log first (a log of every instruction can be larger than any buffer,
        // which fails the load with ENOSPC), then again with one only to explain a refusal.
        try {
            return progLoad(type, expectedAttachType, attachBtfId, insns, name, 0);
        } catch (LoadException e) {
            try {
                progLoad(type, expectedAttachType, attachBtfId, insns, name, 1).close();
            } catch (LoadException explained) {
                throw new LoadException(e.errnoValue(), explained.verifierLog());
            }
            throw e;
        }
    }

    private static Fd progLoad(int type, int expectedAttachType, int attachBtfId, byte[] insns, String name,
            int logLevel) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(ATTR_SIZE, 8);
            MemorySegment code = arena.allocateFrom(JAVA_BYTE, insns);
            MemorySegment log = logLevel == 0 ? MemorySegment.NULL : arena.allocate(LOG_SIZE);
            attr.set(JAVA_INT, 0, type);
            attr.set(JAVA_INT, 4, insns.length / 8);
            attr.set(JAVA_LONG, 8, code.address());
            attr.set(JAVA_LONG, 16, arena.allocateFrom("GPL").address());
            if (logLevel != 0) {
                attr.set(JAVA_INT, 24, logLevel);
                attr.set(JAVA_INT, 28, LOG_SIZE);
                attr.set(JAVA_LONG, 32, log.address());
            }
            putName(attr, 48, name);
            attr.set(JAVA_INT, 68, expectedAttachType);
            attr.set(JAVA_INT, 108, attachBtfId);
            MemorySegment err = Native.errnoSegment(arena);
            long fd = call(PROG_LOAD, attr, err);
            if (fd < 0) {
                String text = logLevel == 0 ? "" : log.getString(0).strip();
                // The end says why: the verifier stops at the instruction it refuses.
                throw new LoadException(Native.errno(err), text.length() > 4000 ? "..." + text.substring(
                        text.length() - 4000) : text);
            }
            return Fd.adopt((int) fd);
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw Native.linkageBug(t);
        }
    }

    /**
     * Attaches a loaded LSM or tracing program to the function or tracepoint it was loaded for; the program stays
     * attached while the returned link is open (and no longer: a daemon that dies takes it away).
     */
    public static Fd attach(Fd prog) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(ATTR_SIZE, 8);
            attr.set(JAVA_INT, 8, prog.value());
            MemorySegment err = Native.errnoSegment(arena);
            long fd = call(RAW_TRACEPOINT_OPEN, attr, err);
            if (fd < 0) {
                throw new LinuxException("bpf(BPF_RAW_TRACEPOINT_OPEN)", Native.errno(err), "prog fd " + prog.value());
            }
            return Fd.adopt((int) fd);
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw Native.linkageBug(t);
        }
    }

    /** {@code mmap(2)} of {@code length} bytes of {@code fd} at {@code offset}, shared; unmapped by {@link #unmap}. */
    public static MemorySegment map(Fd fd, long length, int prot, long offset) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment err = Native.errnoSegment(arena);
            MemorySegment at = (MemorySegment) MMAP.invokeExact(err, MemorySegment.NULL, length, prot, MAP_SHARED,
                    fd.value(), offset);
            if (at.address() == -1L) {
                throw new LinuxException("mmap", Native.errno(err), "fd " + fd.value());
            }
            return at.reinterpret(length);
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw Native.linkageBug(t);
        }
    }

    public static void unmap(MemorySegment mapping) {
        try (Arena arena = Arena.ofConfined()) {
            int rc = (int) MUNMAP.invokeExact(Native.errnoSegment(arena), mapping, mapping.byteSize());
            assert rc == 0;
        } catch (Throwable t) {
            throw Native.linkageBug(t);
        }
    }

    private static void putName(MemorySegment attr, long at, String name) {
        byte[] b = name.getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < Math.min(b.length, 15); i++) {
            attr.set(JAVA_BYTE, at + i, b[i]);
        }
    }
}
