package dev.imans.daemon.enforce;

import java.util.OptionalInt;

/**
 * The process behind one permission event, read from {@code /proc} while it is blocked in its open
 * (so its pid cannot be reused meanwhile).
 *
 * @param pid the opener's thread group id in the daemon's pid namespace
 * @param mntNs its mount namespace: the nsfs inode number users name it by
 * @param requestedMask the {@code MAY_*} mask of its open, when it can be known ({@link AccessMask})
 * @param capSetuid CAP_SETUID in its effective set (then {@code euid=} rules also test uid and suid)
 * @param creates its open may create the file (O_CREAT), as far as its syscall shows
 * @param credentialsRead whether the ids and capabilities were read (else they are zero: no rule needed them)
 */
public record Opener(int pid, long mntNs, int uid, int euid, int suid, int gid, int egid, int sgid,
        boolean capSetuid, boolean capSetgid, OptionalInt requestedMask, boolean creates, boolean credentialsRead) {}
