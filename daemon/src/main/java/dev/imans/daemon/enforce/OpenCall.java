package dev.imans.daemon.enforce;

import java.util.OptionalInt;

/**
 * What the opener's blocked call says about its open, from {@code /proc/PID/syscall} ({@link AccessMask}).
 *
 * @param consulted whether the call was looked at; when it was not, nothing below is known
 * @param mask the open's {@code MAY_*} mask; empty when it cannot be known (openat2, io_uring, other
 *     architectures, multi-threaded openers) or was not looked at
 * @param creates the open may create the file (O_CREAT, creat())
 * @param tmpfile the open is an {@code O_TMPFILE} open: a new, unnamed inode
 */
public record OpenCall(boolean consulted, OptionalInt mask, boolean creates, boolean tmpfile) {
    /** The call was not looked at (no policy in force needed it). */
    static final OpenCall NOT_CONSULTED = new OpenCall(false, OptionalInt.empty(), false, false);
    /**
     * Not looked at, but known not to write: no descriptor of the file was open for writing when a read
     * lease was tried, and an open for writing takes its write access before its permission event, so
     * this open is a read ({@code MAY_READ}; execs are told apart by their event).
     */
    static final OpenCall NOT_WRITING = new OpenCall(true, OptionalInt.of(dev.imans.policy.Mask.MAY_READ.bit()),
            false, false);
    /** The call was looked at and tells nothing. */
    static final OpenCall UNKNOWN = new OpenCall(true, OptionalInt.empty(), false, false);

    public static OpenCall parse(String syscallText) {
        return new OpenCall(true, AccessMask.fromSyscall(syscallText), AccessMask.creates(syscallText),
                AccessMask.tmpfile(syscallText));
    }

    /** Whether the call was looked at and its flags were read. */
    public boolean known() {
        return mask.isPresent();
    }
}
