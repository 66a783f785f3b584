package dev.imans.daemon.enforce;

import dev.imans.policy.Mask;
import java.util.OptionalInt;

/**
 * The {@code MAY_*} mask of an open, which fanotify does not report: read from the blocked opener's
 * {@code /proc/PID/syscall} (the syscall number and raw arguments of the call it is sleeping in; the
 * opener sits in that call until the daemon answers). The kernel hands IMA
 * {@code ACC_MODE(flags)}, plus MAY_WRITE for O_TRUNC and MAY_APPEND for O_APPEND
 * (fs/open.c build_open_flags, fs/namei.c do_open), and MAY_EXEC for the open that execve makes.
 *
 * <p>Limits, each answered with "unknown" rather than a guess: {@code openat2} (its flags sit in a
 * struct in the opener's memory), io_uring opens, architectures other than x86_64 and aarch64, and
 * multi-threaded openers (fanotify reports the thread group id, and {@code /proc/TGID/syscall} is the
 * main thread's call, which need not be the one opening).
 */
public final class AccessMask {
    private static final int O_ACCMODE = 3;
    private static final int O_WRONLY = 1;
    private static final int O_RDWR = 2;
    private static final int O_CREAT = 0100;
    private static final int O_TRUNC = 01000;
    private static final int O_APPEND = 02000;
    /** {@code __O_TMPFILE}, the same on x86_64 and aarch64 (O_TMPFILE adds O_DIRECTORY, which differs). */
    private static final int O_TMPFILE_BIT = 020000000;

    /** Syscall numbers of this machine (arch/x86/entry/syscalls/syscall_64.tbl, include/uapi/asm-generic/unistd.h). */
    private record Table(int open, int openat, int creat, int execve, int execveat) {}

    private static final Table TABLE = switch (System.getProperty("os.arch")) {
        case "amd64", "x86_64" -> new Table(2, 257, 85, 59, 322);
        case "aarch64" -> new Table(-1, 56, -1, 221, 281);
        default -> null;
    };

    private AccessMask() {}

    /** The mask from the text of {@code /proc/PID/syscall}; empty when it cannot be known. */
    public static OptionalInt fromSyscall(String text) {
        if (TABLE == null) {
            return OptionalInt.empty();
        }
        String[] f = text.strip().split(" ");
        if (f.length < 4) {
            return OptionalInt.empty();
        }
        try {
            int nr = Integer.parseInt(f[0]);
            if (nr == TABLE.execve || nr == TABLE.execveat) {
                return OptionalInt.of(Mask.MAY_EXEC.bit());
            }
            if (nr == TABLE.openat) {
                return OptionalInt.of(ofFlags(arg(f[3])));
            }
            if (nr == TABLE.open) {
                return OptionalInt.of(ofFlags(arg(f[2])));
            }
            if (nr == TABLE.creat) {
                return OptionalInt.of(ofFlags(O_CREAT | O_WRONLY | O_TRUNC));
            }
        } catch (NumberFormatException e) {
            return OptionalInt.empty();
        }
        return OptionalInt.empty();
    }

    /**
     * Whether the call may create the file (O_CREAT, or creat()): a file it just created is new, and the
     * kernel lets the creator through without a label ({@code IMA_NEW_FILE}, ima_appraise.c).
     */
    public static boolean creates(String text) {
        if (TABLE == null) {
            return false;
        }
        String[] f = text.strip().split(" ");
        try {
            int nr = Integer.parseInt(f[0]);
            if (nr == TABLE.creat) {
                return true;
            }
            if (nr == TABLE.openat && f.length > 3) {
                return (arg(f[3]) & O_CREAT) != 0;
            }
            if (nr == TABLE.open && f.length > 2) {
                return (arg(f[2]) & O_CREAT) != 0;
            }
        } catch (NumberFormatException e) {
            return false;
        }
        return false;
    }

    /**
     * Whether the call is an {@code O_TMPFILE} open: it makes a new, unnamed inode, which the kernel
     * opens without ever calling {@code ima_file_check} (fs/namei.c do_tmpfile, not do_open).
     */
    public static boolean tmpfile(String text) {
        if (TABLE == null) {
            return false;
        }
        String[] f = text.strip().split(" ");
        try {
            int nr = Integer.parseInt(f[0]);
            if (nr == TABLE.openat && f.length > 3) {
                return (arg(f[3]) & O_TMPFILE_BIT) != 0;
            }
            if (nr == TABLE.open && f.length > 2) {
                return (arg(f[2]) & O_TMPFILE_BIT) != 0;
            }
        } catch (NumberFormatException e) {
            return false;
        }
        return false;
    }

    /** {@code ACC_MODE(flags)} with the O_TRUNC and O_APPEND additions. */
    static int ofFlags(long flags) {
        int acc = (int) (flags & O_ACCMODE);
        int mask = switch (acc) {
            case O_WRONLY -> Mask.MAY_WRITE.bit();
            case O_RDWR, O_ACCMODE -> Mask.MAY_READ.bit() | Mask.MAY_WRITE.bit();
            default -> Mask.MAY_READ.bit();
        };
        if ((flags & O_TRUNC) != 0) {
            mask |= Mask.MAY_WRITE.bit();
        }
        if ((flags & O_APPEND) != 0) {
            mask |= Mask.MAY_APPEND.bit();
        }
        return mask;
    }

    private static long arg(String hex) {
        return Long.parseUnsignedLong(hex.startsWith("0x") ? hex.substring(2) : hex, 16);
    }

    /**
     * Whether the open is known to ask for MAY_WRITE, the bit process_measurement tests before it
     * refuses a signed file (MAY_APPEND alone, from O_RDONLY|O_APPEND, does not count there).
     */
    public static boolean knownToWrite(OptionalInt mask) {
        return mask.isPresent() && (mask.getAsInt() & Mask.MAY_WRITE.bit()) != 0;
    }

    /** Whether the open can write (MAY_WRITE or MAY_APPEND); unknown counts as writing. */
    public static boolean mayWrite(OptionalInt mask) {
        return mask.isEmpty() || (mask.getAsInt() & (Mask.MAY_WRITE.bit() | Mask.MAY_APPEND.bit())) != 0;
    }
}
