package dev.imans.policy;

import static dev.imans.policy.FsMagic.BINFMTFS_MAGIC;
import static dev.imans.policy.FsMagic.CGROUP2_SUPER_MAGIC;
import static dev.imans.policy.FsMagic.CGROUP_SUPER_MAGIC;
import static dev.imans.policy.FsMagic.DEBUGFS_MAGIC;
import static dev.imans.policy.FsMagic.DEVPTS_SUPER_MAGIC;
import static dev.imans.policy.FsMagic.EFIVARFS_MAGIC;
import static dev.imans.policy.FsMagic.NSFS_MAGIC;
import static dev.imans.policy.FsMagic.PROC_SUPER_MAGIC;
import static dev.imans.policy.FsMagic.RAMFS_MAGIC;
import static dev.imans.policy.FsMagic.SECURITYFS_MAGIC;
import static dev.imans.policy.FsMagic.SELINUX_MAGIC;
import static dev.imans.policy.FsMagic.SMACK_MAGIC;
import static dev.imans.policy.FsMagic.SYSFS_MAGIC;
import static dev.imans.policy.FsMagic.TMPFS_MAGIC;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The kernel's built-in policies, selected at boot with {@code ima_policy=} (and the legacy
 * {@code ima_tcb}): the rule arrays of ima_policy.c written as policy text and read with the same
 * parser as any policy, so they read back exactly as the kernel lists them before a custom policy.
 * These are the 6.1 lists (later kernels limit the tmpfs dont_measure rule to func=FILE_CHECK).
 */
public final class BuiltinPolicy {
    private BuiltinPolicy() {}

    /** The names {@link #named} knows. */
    public static final List<String> NAMES = List.of("tcb", "ima_tcb", "appraise_tcb", "secure_boot", "critical_data");

    private static final List<FsMagic> DONT_MEASURE = List.of(PROC_SUPER_MAGIC, SYSFS_MAGIC, DEBUGFS_MAGIC,
            TMPFS_MAGIC, DEVPTS_SUPER_MAGIC, BINFMTFS_MAGIC, SECURITYFS_MAGIC, SELINUX_MAGIC, SMACK_MAGIC,
            CGROUP_SUPER_MAGIC, CGROUP2_SUPER_MAGIC, NSFS_MAGIC, EFIVARFS_MAGIC);

    private static final List<FsMagic> DONT_APPRAISE = List.of(PROC_SUPER_MAGIC, SYSFS_MAGIC, DEBUGFS_MAGIC,
            TMPFS_MAGIC, RAMFS_MAGIC, DEVPTS_SUPER_MAGIC, BINFMTFS_MAGIC, SECURITYFS_MAGIC, SELINUX_MAGIC,
            SMACK_MAGIC, NSFS_MAGIC, EFIVARFS_MAGIC, CGROUP_SUPER_MAGIC, CGROUP2_SUPER_MAGIC);

    /** {@code default_measurement_rules}. */
    private static final List<String> TCB = List.of(
            "measure func=MMAP_CHECK mask=MAY_EXEC",
            "measure func=BPRM_CHECK mask=MAY_EXEC",
            "measure func=FILE_CHECK mask=^MAY_READ euid=0",
            "measure func=FILE_CHECK mask=^MAY_READ uid=0",
            "measure func=MODULE_CHECK",
            "measure func=FIRMWARE_CHECK",
            "measure func=POLICY_CHECK");

    /** {@code original_measurement_rules}: the exact mask=MAY_READ of the first IMA policy. */
    private static final List<String> IMA_TCB = List.of(
            "measure func=MMAP_CHECK mask=MAY_EXEC",
            "measure func=BPRM_CHECK mask=MAY_EXEC",
            "measure func=FILE_CHECK mask=MAY_READ uid=0",
            "measure func=MODULE_CHECK",
            "measure func=FIRMWARE_CHECK");

    /** {@code secure_boot_rules}. */
    private static final List<String> SECURE_BOOT = List.of(
            "appraise func=MODULE_CHECK appraise_type=imasig",
            "appraise func=FIRMWARE_CHECK appraise_type=imasig",
            "appraise func=KEXEC_KERNEL_CHECK appraise_type=imasig",
            "appraise func=POLICY_CHECK appraise_type=imasig");

    /** {@code critical_data_rules}. */
    private static final List<String> CRITICAL_DATA = List.of("measure func=CRITICAL_DATA");

    /** A built-in policy under {@link KernelProfile#defaults()}. */
    public static Optional<Policy> named(String name) {
        return named(name, KernelProfile.defaults());
    }

    /** A built-in policy; {@code appraise_tcb} depends on the profile's writePolicy and appraiseSignedInit. */
    public static Optional<Policy> named(String name, KernelProfile profile) {
        List<String> lines = switch (name) {
            case "tcb" -> concat(dontMeasure(), TCB);
            case "ima_tcb" -> concat(dontMeasure(), IMA_TCB);
            case "appraise_tcb", "ima_appraise_tcb" -> appraiseTcb(profile);
            case "secure_boot" -> SECURE_BOOT;
            case "critical_data" -> CRITICAL_DATA;
            default -> null;
        };
        if (lines == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(PolicyParser.parse(String.join("\n", lines), profile));
        } catch (PolicyException e) {
            throw new IllegalStateException("built-in policy " + name + " does not parse under this profile: "
                    + e.getMessage(), e);
        }
    }

    private static List<String> dontMeasure() {
        List<String> out = new ArrayList<>();
        for (FsMagic m : DONT_MEASURE) {
            out.add("dont_measure fsmagic=" + m.hex());
        }
        return out;
    }

    /** {@code default_appraise_rules}. */
    private static List<String> appraiseTcb(KernelProfile profile) {
        List<String> out = new ArrayList<>();
        for (FsMagic m : DONT_APPRAISE) {
            out.add("dont_appraise fsmagic=" + m.hex());
        }
        if (profile.writePolicy()) {
            out.add("appraise func=POLICY_CHECK appraise_type=imasig");
        }
        out.add(profile.appraiseSignedInit() ? "appraise fowner=0 appraise_type=imasig" : "appraise fowner=0");
        return out;
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }
}
