package dev.imans.policy;

import java.util.UUID;

/**
 * What is known about one access when the policy is evaluated: the hook, the requested
 * {@code MAY_*} mask, the file, and the task's credentials.
 *
 * @param func      the hook ({@link Func#FILE_CHECK} for open, {@link Func#BPRM_CHECK} for exec, ...);
 *                  {@link Func#POST_SETATTR} bypasses func and mask checks as in the kernel
 * @param mask      the requested {@code MAY_*} bits (for open: the open mode's R/W/X/A bits)
 * @param file      the file's filesystem and owner
 * @param capSetuid whether the task has CAP_SETUID (then {@code euid} conditions also test uid and suid)
 * @param capSetgid whether the task has CAP_SETGID (same for {@code egid})
 * @param funcData  the keyring name (KEY_CHECK) or label (CRITICAL_DATA) being measured, else null
 * @param subject   the task's SELinux context, what {@code subj_*=} test; null where SELinux labels are not
 *                  judged (then every LSM condition fails)
 */
public record AccessFacts(
        Func func,
        int mask,
        FileFacts file,
        long uid,
        long euid,
        long suid,
        long gid,
        long egid,
        long sgid,
        boolean capSetuid,
        boolean capSetgid,
        String funcData,
        SelinuxContext subject) {

    public AccessFacts {
        if (func == null || file == null) {
            throw new IllegalArgumentException("func and file are required");
        }
    }

    /** An access by root (all ids 0, no capabilities) to {@link FileFacts#rootFile()}. */
    public static AccessFacts of(Func func, int mask) {
        return new AccessFacts(func, mask, FileFacts.rootFile(), 0, 0, 0, 0, 0, 0, false, false, null, null);
    }

    public AccessFacts withFile(FileFacts value) {
        return new AccessFacts(func, mask, value, uid, euid, suid, gid, egid, sgid, capSetuid, capSetgid, funcData, subject);
    }

    public AccessFacts withFilesystem(long magic, String name, UUID uuid) {
        return withFile(file.withFilesystem(magic, name, uuid));
    }

    public AccessFacts withOwner(long owner, long group) {
        return withFile(file.withOwner(owner, group));
    }

    public AccessFacts withUids(long uidValue, long euidValue, long suidValue) {
        return new AccessFacts(func, mask, file, uidValue, euidValue, suidValue, gid, egid, sgid, capSetuid, capSetgid,
                funcData, subject);
    }

    public AccessFacts withGids(long gidValue, long egidValue, long sgidValue) {
        return new AccessFacts(func, mask, file, uid, euid, suid, gidValue, egidValue, sgidValue, capSetuid, capSetgid,
                funcData, subject);
    }

    public AccessFacts withCapabilities(boolean setuid, boolean setgid) {
        return new AccessFacts(func, mask, file, uid, euid, suid, gid, egid, sgid, setuid, setgid, funcData, subject);
    }

    public AccessFacts withFuncData(String data) {
        return new AccessFacts(func, mask, file, uid, euid, suid, gid, egid, sgid, capSetuid, capSetgid, data, subject);
    }

    public AccessFacts withSubject(SelinuxContext value) {
        return new AccessFacts(func, mask, file, uid, euid, suid, gid, egid, sgid, capSetuid, capSetgid, funcData, value);
    }
}
