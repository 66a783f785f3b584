package dev.imans.policy;

/**
 * The filesystem magic numbers the kernel's built-in policies name (include/uapi/linux/magic.h),
 * in the order ima_policy.c lists them in {@code dont_measure_rules}.
 */
public enum FsMagic {
    PROC_SUPER_MAGIC(0x9fa0L),
    SYSFS_MAGIC(0x62656572L),
    DEBUGFS_MAGIC(0x64626720L),
    TMPFS_MAGIC(0x01021994L),
    DEVPTS_SUPER_MAGIC(0x1cd1L),
    BINFMTFS_MAGIC(0x42494e4dL),
    SECURITYFS_MAGIC(0x73636673L),
    SELINUX_MAGIC(0xf97cff8cL),
    SMACK_MAGIC(0x43415d53L),
    CGROUP_SUPER_MAGIC(0x27e0ebL),
    CGROUP2_SUPER_MAGIC(0x63677270L),
    NSFS_MAGIC(0x6e736673L),
    EFIVARFS_MAGIC(0xde5e81e4L),
    RAMFS_MAGIC(0x858458f6L);

    private final long value;

    FsMagic(long value) {
        this.value = value;
    }

    public long value() {
        return value;
    }

    /** As a policy writes it after {@code fsmagic=}. */
    public String hex() {
        return "0x" + Long.toHexString(value);
    }
}
