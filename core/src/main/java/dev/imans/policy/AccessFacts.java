package dev.imans.policy;

import java.util.UUID;

/**
 * What is known about one access when the policy is evaluated: the hook, the requested
 * {@code MAY_*} mask, the file's filesystem and owner, and the task's credentials.
 *
 * @param func      the hook ({@link Func#FILE_CHECK} for open, {@link Func#BPRM_CHECK} for exec, ...);
 *                  {@link Func#POST_SETATTR} bypasses func and mask checks as in the kernel
 * @param mask      the requested {@code MAY_*} bits (for open: the open mode's R/W/X/A bits)
 * @param fsMagic   the superblock magic ({@code statfs f_type})
 * @param fsUuid    the superblock UUID, null when the filesystem has none
 * @param fsName    the filesystem type name ({@code s_type->name}, e.g. {@code tmpfs})
 * @param fowner    the file owner as seen through the mount's idmapping
 * @param fgroup    the file group as seen through the mount's idmapping
 * @param capSetuid whether the task has CAP_SETUID (then {@code euid} conditions also test uid and suid)
 * @param capSetgid whether the task has CAP_SETGID (same for {@code egid})
 * @param funcData  the keyring name (KEY_CHECK) or label (CRITICAL_DATA) being measured, else null
 */
public record AccessFacts(
        Func func,
        int mask,
        long fsMagic,
        UUID fsUuid,
        String fsName,
        long uid,
        long euid,
        long suid,
        long gid,
        long egid,
        long sgid,
        long fowner,
        long fgroup,
        boolean capSetuid,
        boolean capSetgid,
        String funcData) {

    public AccessFacts {
        if (func == null) {
            throw new IllegalArgumentException("func is required");
        }
        if (fsName == null) {
            fsName = "";
        }
    }

    /** An access by root (all ids 0, no capabilities) to a root-owned file on a filesystem with magic 0. */
    public static AccessFacts of(Func func, int mask) {
        return new AccessFacts(func, mask, 0, null, "", 0, 0, 0, 0, 0, 0, 0, 0, false, false, null);
    }

    public AccessFacts withFilesystem(long magic, String name, UUID uuid) {
        return new AccessFacts(func, mask, magic, uuid, name, uid, euid, suid, gid, egid, sgid, fowner, fgroup,
                capSetuid, capSetgid, funcData);
    }

    public AccessFacts withUids(long uidValue, long euidValue, long suidValue) {
        return new AccessFacts(func, mask, fsMagic, fsUuid, fsName, uidValue, euidValue, suidValue, gid, egid, sgid,
                fowner, fgroup, capSetuid, capSetgid, funcData);
    }

    public AccessFacts withGids(long gidValue, long egidValue, long sgidValue) {
        return new AccessFacts(func, mask, fsMagic, fsUuid, fsName, uid, euid, suid, gidValue, egidValue, sgidValue,
                fowner, fgroup, capSetuid, capSetgid, funcData);
    }

    public AccessFacts withOwner(long owner, long group) {
        return new AccessFacts(func, mask, fsMagic, fsUuid, fsName, uid, euid, suid, gid, egid, sgid, owner, group,
                capSetuid, capSetgid, funcData);
    }

    public AccessFacts withCapabilities(boolean setuid, boolean setgid) {
        return new AccessFacts(func, mask, fsMagic, fsUuid, fsName, uid, euid, suid, gid, egid, sgid, fowner, fgroup,
                setuid, setgid, funcData);
    }

    public AccessFacts withFuncData(String data) {
        return new AccessFacts(func, mask, fsMagic, fsUuid, fsName, uid, euid, suid, gid, egid, sgid, fowner, fgroup,
                capSetuid, capSetgid, data);
    }
}
