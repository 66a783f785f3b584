package dev.imans.policy;

import java.util.EnumSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Whole-rule checks after parsing, {@code ima_validate_rule()} in ima_policy.c: the action is
 * set and fits the options, each func allows only its set of conditions and actions, and the
 * signature flags are consistent.
 */
final class RuleValidator {
    private RuleValidator() {}

    /** Flags every file hook (and "no func") allows; ima_validate_rule's first case. */
    private static final Set<RuleFlag> FILE_HOOK_FLAGS = EnumSet.of(
            RuleFlag.FUNC, RuleFlag.MASK, RuleFlag.FSMAGIC, RuleFlag.UID, RuleFlag.FOWNER,
            RuleFlag.FSUUID, RuleFlag.INMASK, RuleFlag.EUID, RuleFlag.PCR, RuleFlag.FSNAME,
            RuleFlag.GID, RuleFlag.EGID, RuleFlag.FGROUP, RuleFlag.DIGSIG_REQUIRED,
            RuleFlag.PERMIT_DIRECTIO, RuleFlag.VALIDATE_ALGOS, RuleFlag.VERITY_REQUIRED);

    /** MODULE_CHECK and the kexec file hooks: appended signatures allowed, fs-verity not. */
    private static final Set<RuleFlag> MODSIG_HOOK_FLAGS = EnumSet.of(
            RuleFlag.FUNC, RuleFlag.MASK, RuleFlag.FSMAGIC, RuleFlag.UID, RuleFlag.FOWNER,
            RuleFlag.FSUUID, RuleFlag.INMASK, RuleFlag.EUID, RuleFlag.PCR, RuleFlag.FSNAME,
            RuleFlag.GID, RuleFlag.EGID, RuleFlag.FGROUP, RuleFlag.DIGSIG_REQUIRED,
            RuleFlag.PERMIT_DIRECTIO, RuleFlag.MODSIG_ALLOWED, RuleFlag.CHECK_BLACKLIST,
            RuleFlag.VALIDATE_ALGOS);

    private static final Set<RuleFlag> KEXEC_CMDLINE_FLAGS = EnumSet.of(
            RuleFlag.FUNC, RuleFlag.FSMAGIC, RuleFlag.UID, RuleFlag.FOWNER, RuleFlag.FSUUID,
            RuleFlag.EUID, RuleFlag.PCR, RuleFlag.FSNAME, RuleFlag.GID, RuleFlag.EGID, RuleFlag.FGROUP);

    private static final Set<RuleFlag> KEY_CHECK_FLAGS = EnumSet.of(
            RuleFlag.FUNC, RuleFlag.UID, RuleFlag.GID, RuleFlag.PCR, RuleFlag.KEYRINGS);

    private static final Set<RuleFlag> CRITICAL_DATA_FLAGS = EnumSet.of(
            RuleFlag.FUNC, RuleFlag.UID, RuleFlag.GID, RuleFlag.PCR, RuleFlag.LABEL);

    private static final Set<RuleFlag> SETXATTR_FLAGS = EnumSet.of(RuleFlag.FUNC, RuleFlag.VALIDATE_ALGOS);

    private static final Set<Action> MEASURE_ONLY = EnumSet.of(Action.MEASURE, Action.DONT_MEASURE);

    static Optional<PolicyError> validate(Rule rule, KernelProfile profile) {
        Set<RuleFlag> flags = RuleFlag.of(rule);
        Origin o = rule.origin();

        if (rule.pcr() != null && rule.action() != Action.MEASURE) {
            return error(o, "pcr", "pcr= is only allowed with the measure action, not " + rule.action());
        }
        for (RuleFlag f : new RuleFlag[] {RuleFlag.DIGSIG_REQUIRED, RuleFlag.MODSIG_ALLOWED,
                RuleFlag.CHECK_BLACKLIST, RuleFlag.VALIDATE_ALGOS}) {
            if (flags.contains(f) && rule.action() != Action.APPRAISE) {
                return error(o, f.key, f.key + "= is only allowed with the appraise action, not " + rule.action());
            }
        }

        Func func = rule.func();
        String where = func == Func.NONE ? "a rule without func=" : "func=" + func.name();
        Set<RuleFlag> allowed;
        switch (func) {
            case NONE, FILE_CHECK, MMAP_CHECK, MMAP_CHECK_REQPROT, BPRM_CHECK, CREDS_CHECK, POST_SETATTR,
                    FIRMWARE_CHECK, POLICY_CHECK -> allowed = profile.implicitBlacklist()
                            ? with(FILE_HOOK_FLAGS, RuleFlag.CHECK_BLACKLIST) : FILE_HOOK_FLAGS;
            case MODULE_CHECK, KEXEC_KERNEL_CHECK, KEXEC_INITRAMFS_CHECK -> allowed = MODSIG_HOOK_FLAGS;
            case KEXEC_CMDLINE -> {
                if (!MEASURE_ONLY.contains(rule.action())) {
                    return actionError(o, func);
                }
                allowed = KEXEC_CMDLINE_FLAGS;
            }
            case KEY_CHECK, CRITICAL_DATA -> {
                if (!MEASURE_ONLY.contains(rule.action())) {
                    return actionError(o, func);
                }
                allowed = func == Func.KEY_CHECK ? KEY_CHECK_FLAGS : CRITICAL_DATA_FLAGS;
            }
            case SETXATTR_CHECK -> {
                if (rule.action() != Action.APPRAISE) {
                    return error(o, Origin.ACTION, "func=SETXATTR_CHECK only allows the appraise action");
                }
                if (!flags.contains(RuleFlag.VALIDATE_ALGOS)) {
                    return error(o, "func", "func=SETXATTR_CHECK requires appraise_algos=");
                }
                allowed = SETXATTR_FLAGS;
            }
            default -> throw new IllegalStateException("unhandled func " + func);
        }
        Optional<PolicyError> extra = firstDisallowed(rule, flags, allowed, where);
        if (extra.isPresent()) {
            return extra;
        }
        if (func == Func.KEY_CHECK || func == Func.CRITICAL_DATA) {
            Optional<PolicyError> lsm = firstLsm(rule);
            if (lsm.isPresent()) {
                return lsm;
            }
        }

        if (flags.contains(RuleFlag.CHECK_BLACKLIST)) {
            RuleFlag needed = profile.implicitBlacklist() ? RuleFlag.DIGSIG_REQUIRED : RuleFlag.MODSIG_ALLOWED;
            if (!flags.contains(needed)) {
                return error(o, "appraise_flag", "appraise_flag=check_blacklist requires "
                        + (needed == RuleFlag.MODSIG_ALLOWED ? "appraise_type=imasig|modsig" : "appraise_type="));
            }
        }
        if (rule.action() == Action.APPRAISE && rule.verityRequired() && !rule.digsigRequired()) {
            return error(o, "digest_type",
                    "appraise with digest_type=verity requires appraise_type=sigv3 after it");
        }
        return Optional.empty();
    }

    private static Optional<PolicyError> firstDisallowed(Rule rule, Set<RuleFlag> flags,
                                                         Set<RuleFlag> allowed, String where) {
        Origin o = rule.origin();
        RuleFlag worst = null;
        for (RuleFlag f : flags) {
            if (!allowed.contains(f) && (worst == null || o.column(f.key) < o.column(worst.key))) {
                worst = f;
            }
        }
        if (worst == null) {
            return Optional.empty();
        }
        String hint = switch (worst) {
            case KEYRINGS -> " (keyrings= needs func=KEY_CHECK)";
            case LABEL -> " (label= needs func=CRITICAL_DATA)";
            case MODSIG_ALLOWED, CHECK_BLACKLIST ->
                    " (appended signatures need func=MODULE_CHECK, KEXEC_KERNEL_CHECK or KEXEC_INITRAMFS_CHECK)";
            default -> "";
        };
        return error(o, worst.key, worst.text + " is not allowed with " + where + hint);
    }

    private static Optional<PolicyError> firstLsm(Rule rule) {
        for (Map.Entry<LsmKey, String> e : rule.lsm().entrySet()) {
            String key = e.getKey().token().key();
            return error(rule.origin(), key, key + "= (an LSM condition) is not allowed with func="
                    + rule.func().name());
        }
        return Optional.empty();
    }

    private static Optional<PolicyError> actionError(Origin o, Func func) {
        return error(o, Origin.ACTION, "func=" + func.name() + " only allows the measure and dont_measure actions");
    }

    private static Optional<PolicyError> error(Origin o, String key, String reason) {
        return Optional.of(new PolicyError(o.line(), o.column(key), reason));
    }

    private static Set<RuleFlag> with(Set<RuleFlag> base, RuleFlag extra) {
        Set<RuleFlag> s = EnumSet.copyOf(base);
        s.add(extra);
        return s;
    }
}
