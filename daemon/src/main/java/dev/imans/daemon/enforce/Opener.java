package dev.imans.daemon.enforce;

import java.util.OptionalInt;

/**
 * The process behind one permission event, read from {@code /proc} while it is blocked in its open
 * (so its pid cannot be reused meanwhile).
 *
 * @param pid the opener's id in the daemon's pid namespace: the opening thread's if {@code thread}, else its
 *     thread group's
 * @param mntNs its mount namespace: the nsfs inode number users name it by
 * @param capSetuid CAP_SETUID in its effective set (then {@code euid=} rules also test uid and suid)
 * @param call what its blocked call shows of the open: mask, O_CREAT, O_TMPFILE ({@link AccessMask})
 * @param credentialsRead whether the ids and capabilities were read (else they are zero: no rule needed them)
 * @param thread whether {@code pid} is the opening thread's own id (FAN_REPORT_TID)
 */
public record Opener(int pid, long mntNs, int uid, int euid, int suid, int gid, int egid, int sgid,
        boolean capSetuid, boolean capSetgid, OpenCall call, boolean credentialsRead, boolean thread) {

    /** The same opener, with {@code c} for what its call shows. */
    Opener withCall(OpenCall c) {
        return new Opener(pid, mntNs, uid, euid, suid, gid, egid, sgid, capSetuid, capSetgid, c, credentialsRead,
                thread);
    }

    /** The {@code MAY_*} mask of its open, when it can be known ({@link AccessMask}). */
    public OptionalInt requestedMask() {
        return call.mask();
    }
}
