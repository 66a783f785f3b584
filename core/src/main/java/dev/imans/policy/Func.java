package dev.imans.policy;

import java.util.Optional;

/**
 * The kernel's IMA hooks, {@code enum ima_hooks} (security/integrity/ima/ima.h, {@code __ima_hooks}),
 * in the order of a recent kernel: {@link #number()} is the kernel's internal value there. Older
 * kernels lack {@link #MMAP_CHECK_REQPROT} (their numbers are one lower from BPRM_CHECK on); the read-back
 * always prints names, so the numbers never reach a user.
 *
 * <p>{@link #NONE} stands for "no func= condition"; {@link #POST_SETATTR} is internal and cannot be
 * written in a policy.
 */
public enum Func {
    NONE,
    FILE_CHECK("PATH_CHECK"),
    MMAP_CHECK("FILE_MMAP"),
    MMAP_CHECK_REQPROT,
    BPRM_CHECK,
    CREDS_CHECK,
    POST_SETATTR,
    MODULE_CHECK,
    FIRMWARE_CHECK,
    KEXEC_KERNEL_CHECK,
    KEXEC_INITRAMFS_CHECK,
    POLICY_CHECK,
    KEXEC_CMDLINE,
    KEY_CHECK,
    CRITICAL_DATA,
    SETXATTR_CHECK;

    private final String alias;

    Func() {
        this(null);
    }

    Func(String alias) {
        this.alias = alias;
    }

    public int number() {
        return ordinal();
    }

    /** The backwards-compatible name ima_parse_rule also takes ({@code PATH_CHECK}, {@code FILE_MMAP}), or null. */
    public String alias() {
        return alias;
    }

    /** Whether a policy may name this hook at all (every hook but NONE and POST_SETATTR). */
    public boolean isWritable() {
        return this != NONE && this != POST_SETATTR;
    }

    /** By the name or alias a policy uses (case-sensitive, as the kernel compares with strcmp). */
    public static Optional<Func> byPolicyName(String name) {
        for (Func f : values()) {
            if (f.isWritable() && (f.name().equals(name) || name.equals(f.alias))) {
                return Optional.of(f);
            }
        }
        return Optional.empty();
    }
}
