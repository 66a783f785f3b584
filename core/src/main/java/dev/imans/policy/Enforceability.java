package dev.imans.policy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What imans can enforce from userspace. It sees file opens (fanotify FAN_OPEN_PERM, i.e.
 * FILE_CHECK) and executions (FAN_OPEN_EXEC_PERM, i.e. BPRM_CHECK) and the opener's credentials,
 * nothing else. Rules it cannot enforce are kept and shown, and reported here.
 *
 * <p>CREDS_CHECK is not enforced: the kernel evaluates the policy a second time at exec, with that
 * func and the credentials the new program will run with (computed inside execve after the exec
 * permission event); imans evaluates an exec once, as BPRM_CHECK.
 *
 * <p>LSM conditions are judged here on SELinux contexts where SELinux is active ({@link PolicyMatcher}),
 * and never match otherwise. Where the active LSMs are known the report says what the kernel would do
 * instead: judge the labels with AppArmor or Smack (then the rule is not enforced), or, with no active
 * LSM able to build the condition, keep the rule without ever matching it (what imans does too; the
 * kernel refuses such a rule only on its first policy write). Unknown LSMs: reported as never matching.
 */
public final class Enforceability {
    private Enforceability() {}

    /** The reasons this rule cannot be enforced here, with the host's LSMs unknown; empty when it can. */
    public static List<PolicyWarning> warnings(Rule rule) {
        return warnings(rule, Optional.empty());
    }

    /** The reasons this rule cannot be enforced on a kernel running {@code lsms} (empty: unknown). */
    public static List<PolicyWarning> warnings(Rule rule, Optional<ActiveLsms> lsms) {
        List<PolicyWarning> out = new ArrayList<>();
        Origin o = rule.origin();
        String funcReason = funcReason(rule);
        if (funcReason != null) {
            out.add(new PolicyWarning(o.line(), o.column("func"),
                    "func=" + rule.func().name() + " is not enforceable from userspace: " + funcReason));
        }
        for (Map.Entry<LsmKey, String> e : rule.lsm().entrySet()) {
            String key = e.getKey().token().key();
            String why = lsmReason(e.getKey(), lsms);
            if (why != null) {
                out.add(new PolicyWarning(o.line(), o.column(key), why));
            }
        }
        if (rule.permitDirectio()) {
            out.add(new PolicyWarning(o.line(), o.column("permit_directio"), "permit_directio has no effect here:"
                    + " imans reads file contents itself, so O_DIRECT opens are measured and appraised like others"));
        }
        if (rule.verityRequired()) {
            out.add(new PolicyWarning(o.line(), o.column("digest_type"), "digest_type=verity is not enforceable"
                    + " from userspace: imans does not use fs-verity file digests or sigv3 signatures"));
        }
        return List.copyOf(out);
    }


    /**
     * What an otherwise enforceable rule misses here: the files it covers that imans cannot see. Today one
     * case: memfds live on the kernel's internal tmpfs, on which fanotify refuses filesystem marks
     * (SB_NOUSER), so a rule that may cover a tmpfs file at exec or open misses programs executed from a
     * memfd.
     */
    public static List<PolicyWarning> gaps(Rule rule) {
        return gaps(rule, MemfdExecs.UNKNOWN);
    }

    /** How the daemon judges programs executed from memfds, which fanotify cannot see. */
    public enum MemfdExecs {
        /** Not known here (a policy checked without a daemon). */
        UNKNOWN,
        /** Not at all: the daemon's exec guard could not be attached. */
        UNJUDGED,
        /** By the daemon's exec guard: refused or audited as appraisal would, but not measured. */
        GUARDED
    }

    /** As {@link #gaps(Rule)} where the daemon judges execs of memfds as {@code execs} says. */
    public static List<PolicyWarning> gaps(Rule rule, MemfdExecs execs) {
        if (rule.action() != Action.APPRAISE && rule.action() != Action.MEASURE
                || execs == MemfdExecs.GUARDED && rule.action() == Action.APPRAISE) {
            return List.of();
        }
        if (!mayMatchInternalExec(rule, FsMagic.TMPFS_MAGIC.value(), "tmpfs") || !rule.lsm().isEmpty()) {
            return List.of();
        }
        Origin o = rule.origin();
        String what = "programs executed from a memfd (memfd_create) ";
        String why = switch (execs) {
            case GUARDED -> "are not measured: the daemon's exec guard sees them but they are gone before they"
                    + " could be hashed";
            case UNJUDGED -> "are not seen: they live on the kernel's internal tmpfs, which fanotify cannot mark,"
                    + " and the daemon's exec guard is not attached (see its log); sysctl vm.memfd_noexec=2 (per"
                    + " pid namespace) makes the kernel refuse such execs";
            case UNKNOWN -> rule.action() == Action.MEASURE
                    ? "are not measured: they live on the kernel's internal tmpfs, which fanotify cannot mark (the"
                            + " daemon's exec guard, a BPF program, judges them for appraisal only)"
                    : "are not seen by fanotify: they live on the kernel's internal tmpfs, which it cannot mark; the"
                            + " daemon judges their execs with its exec guard (a BPF program) where the kernel"
                            + " takes it, else sysctl vm.memfd_noexec=2 (per pid namespace) makes the kernel"
                            + " refuse them";
        };
        return List.of(new PolicyWarning(o.line(), o.column(Origin.ACTION), what + why));
    }

    /**
     * Whether the kernel may appraise some program executed from a memfd under {@code policy}: the
     * appraise rules are walked in order as {@code ima_match_policy} walks them for an exec of a file on
     * the internal tmpfs, by any task. A {@code dont_appraise} rule that holds for every such exec
     * (no condition but {@code func=BPRM_CHECK}, an exec mask and tmpfs's magic or name) ends the walk:
     * the kernel appraises none of them, as with the common {@code dont_appraise fsmagic=0x01021994}. A
     * {@code dont_appraise} rule with conditions on the task or owner leaves others to later rules. Used
     * to decide whether refusing every memfd exec ({@code vm.memfd_noexec=2}) stands in for the
     * kernel's appraisal rather than going beyond it.
     */
    public static boolean mayAppraiseMemfdExec(Policy policy) {
        return mayAppraiseInternalExec(policy, FsMagic.TMPFS_MAGIC.value(), "tmpfs");
    }

    /**
     * As {@link #mayAppraiseMemfdExec}, for an exec of a file on the kernel-internal filesystem of magic
     * {@code fsMagic} and name {@code fsName}.
     */
    static boolean mayAppraiseInternalExec(Policy policy, long fsMagic, String fsName) {
        for (Rule r : policy.rules()) {
            if (r.action() != Action.APPRAISE && r.action() != Action.DONT_APPRAISE
                    || !mayMatchInternalExec(r, fsMagic, fsName)) {
                continue;
            }
            if (r.action() == Action.APPRAISE) {
                return true;
            }
            boolean everyExec = r.uid() == null && r.gid() == null && r.fowner() == null
                    && r.fgroup() == null && r.lsm().isEmpty();
            if (everyExec) {
                return false;
            }
        }
        return false;
    }

    /**
     * Whether {@code r} may match an exec ({@code BPRM_CHECK}, {@code MAY_EXEC}) of a file on the
     * kernel-internal filesystem of magic {@code fsMagic} and name {@code fsName}. No rule can name such
     * a mount's UUID (it has none a user could read), so an {@code fsuuid=} rule does not.
     */
    private static boolean mayMatchInternalExec(Rule r, long fsMagic, String fsName) {
        return !(r.hasFunc() && r.func() != Func.BPRM_CHECK)
                && (r.mask() == null || r.mask().matches(Mask.MAY_EXEC.bit()))
                && (r.fsMagic() == null || r.fsMagic() == fsMagic)
                && (r.fsName() == null || r.fsName().equals(fsName)) && r.fsUuid() == null;
    }

    private static String lsmReason(LsmKey k, Optional<ActiveLsms> lsms) {
        String key = k.token().key();
        if (lsms.isEmpty()) {
            return key + "= is an LSM condition: the kernel's LSMs are not known here, and imans judges only"
                    + " SELinux labels where SELinux is active, so this rule never matches here";
        }
        Optional<String> judge = lsms.get().judgeOf(k);
        if (judge.isPresent() && judge.get().equals("selinux")) {
            return null;
        }
        if (judge.isPresent()) {
            return key + "= is an LSM condition the kernel's " + judge.get() + " judges: imans judges only SELinux"
                    + " labels, so this rule never matches here although it can match on the kernel";
        }
        return key + "= is an LSM condition no active LSM (" + lsms.get() + ") can judge: the kernel keeps such"
                + " a rule (refusing it only on its first policy write) and never matches it, nor does imans, so"
                + " this rule has no effect";
    }

    private static String funcReason(Rule rule) {
        return switch (rule.func()) {
            case NONE, FILE_CHECK, BPRM_CHECK, POST_SETATTR -> null;
            case CREDS_CHECK -> "the kernel evaluates it at exec a second time, with the credentials the new"
                    + " program will run with (set inside execve after the exec permission event); imans judges an"
                    + " exec once, as BPRM_CHECK";
            case MMAP_CHECK, MMAP_CHECK_REQPROT -> "fanotify has no event for mmap(PROT_EXEC), so imans never"
                    + " sees executable mappings";
            case MODULE_CHECK -> "the kernel reads module files itself (kernel_read_file), with no"
                    + " permission event for userspace";
            case FIRMWARE_CHECK -> "the kernel reads firmware itself, with no permission event for userspace";
            case KEXEC_KERNEL_CHECK, KEXEC_INITRAMFS_CHECK -> "the kernel reads kexec images itself, with no"
                    + " permission event for userspace";
            case KEXEC_CMDLINE -> "the kexec command line never passes through userspace file access";
            case POLICY_CHECK -> "the kernel reads IMA policy files itself; imans policies are written to its"
                    + " own control files";
            case KEY_CHECK -> "keys added to kernel keyrings are not file accesses imans can see";
            case CRITICAL_DATA -> "critical data is measured inside the kernel";
            case SETXATTR_CHECK -> "imans does not intercept setxattr(security.ima), so the allowed"
                    + " algorithms are not enforced on writes";
        };
    }
}
