package dev.imans.policy;

import dev.imans.crypto.HashAlgo;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Evaluates a policy for one access, as {@code ima_match_policy()} and {@code ima_match_rules()}
 * in ima_policy.c do. Rules are walked in order; for each action class (measure, appraise, audit,
 * hash) the first matching rule decides, so a {@code dont_*} rule shadows later rules of its class
 * only. A pure function: no state, no I/O.
 *
 * <p>{@link #matches} judges one access, {@link #mayCover} whether any access to a file may match: both
 * judge the file's conditions with the same code, so they cannot disagree about a file.
 * LSM conditions ({@code subj_*}, {@code obj_*}) are judged on SELinux contexts where the facts carry
 * them, and never match otherwise, like a kernel rule whose LSM rule is undefined.
 * SETXATTR_CHECK rules are never matched per access (the kernel applies them to setxattr only).
 */
public final class PolicyMatcher {
    private PolicyMatcher() {}

    private static final int DO_MASK = Action.MEASURE.bit() | Action.APPRAISE.bit() | Action.AUDIT.bit()
            | Action.HASH.bit();

    public static MatchResult match(Policy policy, AccessFacts facts) {
        RuleIndex index = policy.index();
        // ima_get_action asks only for the actions some rule of the loaded policy can grant.
        int flags = index.grantable();
        int actmask = flags | (flags << 1);
        int action = 0;
        int pcr = MatchResult.DEFAULT_PCR;
        Template template = null;
        boolean digsig = false;
        boolean modsig = false;
        boolean verity = false;
        boolean directio = false;
        Set<HashAlgo> algos = EnumSet.noneOf(HashAlgo.class);
        List<Rule> matched = new ArrayList<>();

        // Only the rules whose hook and file conditions hold here: the others never match.
        for (Rule r : index.candidates(facts)) {
            if (actmask == 0) {
                break;
            }
            int bit = r.action().bit();
            if ((bit & actmask) == 0 || !matches(r, facts)) {
                continue;
            }
            matched.add(r);
            digsig |= r.digsigRequired();
            modsig |= r.modsigAllowed();
            verity |= r.verityRequired();
            directio |= r.permitDirectio();
            action |= bit & DO_MASK;
            if (r.action() == Action.APPRAISE) {
                action &= ~Action.HASH.bit();
                if (!r.appraiseAlgos().isEmpty()) {
                    algos = EnumSet.copyOf(r.appraiseAlgos());
                }
            }
            actmask &= r.action().isDo() ? ~(bit | bit << 1) : ~(bit | bit >> 1);
            if (r.pcr() != null) {
                pcr = r.pcr();
            }
            if (r.template() != null) {
                template = r.template();
            }
        }
        return new MatchResult(
                (action & Action.MEASURE.bit()) != 0,
                (action & Action.APPRAISE.bit()) != 0,
                (action & Action.AUDIT.bit()) != 0,
                (action & Action.HASH.bit()) != 0,
                pcr, template, digsig, modsig, verity, algos, directio, matched);
    }

    /**
     * {@code ima_match_rules()}: whether every condition of the rule holds for this access. A condition
     * about a file fact that could not be read ({@link FileFacts#fsUuid()} null) is judged in the
     * direction that enforces more: it holds for {@code measure}, {@code appraise}, {@code audit} and
     * {@code hash} rules and fails for {@code dont_*} rules.
     */
    public static boolean matches(Rule r, AccessFacts f) {
        Func func = f.func();
        boolean postSetattr = func == Func.POST_SETATTR;
        if (r.func() == Func.SETXATTR_CHECK) {
            return false;
        }
        if (r.hasFunc() && r.func() != func && !postSetattr) {
            return false;
        }
        if (func == Func.KEY_CHECK || func == Func.CRITICAL_DATA) {
            return r.func() == func && matchesData(r, f);
        }
        if (r.mask() != null && !postSetattr && !r.mask().matches(f.mask())) {
            return false;
        }
        return fileConditionsHold(r, f.file()) && objectLabelHolds(r, f.file()) && taskConditionsHold(r, f)
                && subjectLabelHolds(r, f);
    }

    /**
     * Whether some open or exec of this file, by any task with any mask, may match the rule: the file
     * half of {@link #matches}, with the task's conditions ({@code uid}, {@code euid}, {@code gid},
     * {@code egid}, {@code mask}) taken to hold. Its func must be one an open or an exec passes through
     * (none, FILE_CHECK, BPRM_CHECK). Whenever {@link #matches} holds for an open or exec of a file,
     * this holds for the file; the converse holds for every rule whose task conditions some task can meet.
     */
    public static boolean mayCover(Rule r, FileFacts f) {
        if (r.hasFunc() && r.func() != Func.FILE_CHECK && r.func() != Func.BPRM_CHECK) {
            return false;
        }
        return fileConditionsHold(r, f) && objectLabelHolds(r, f);
    }

    /** The conditions about the file: fsmagic, fsname, fsuuid, fowner, fgroup (what {@link RuleIndex} sorts by). */
    static boolean fileConditionsHold(Rule r, FileFacts f) {
        if (!filesystemConditionsHold(r, f)) {
            return false;
        }
        if (r.fowner() != null && !r.fowner().test(f.owner())) {
            return false;
        }
        return r.fgroup() == null || r.fgroup().test(f.group());
    }

    /** The conditions about the file's filesystem: fsmagic, fsname, fsuuid. */
    private static boolean filesystemConditionsHold(Rule r, FileFacts f) {
        if (r.fsMagic() != null && r.fsMagic() != f.fsMagic()) {
            return false;
        }
        if (r.fsName() != null && !r.fsName().equals(f.fsName())) {
            return false;
        }
        if (r.fsUuid() != null) {
            // uuid_equal(&rule->fsuuid, &inode->i_sb->s_uuid): an all-zero rule matches a superblock without one.
            boolean holds = f.fsUuid() == null ? r.action().isDo() : r.fsUuid().equals(f.fsUuid());
            return holds;
        }
        return true;
    }

    /** The conditions about the task: uid/euid and gid/egid. */
    private static boolean taskConditionsHold(Rule r, AccessFacts f) {
        if (r.uid() != null && !idMatches(r.uid(), f.uid(), f.euid(), f.suid(), f.capSetuid())) {
            return false;
        }
        return r.gid() == null || idMatches(r.gid(), f.gid(), f.egid(), f.sgid(), f.capSetgid());
    }

    /**
     * The LSM conditions about the file ({@code obj_*}), and whether labels are judged at all. Where they
     * are not ({@link FileFacts#label()} null: no SELinux) no LSM condition holds, as on a kernel where no
     * active LSM can build it ({@code ima_match_rules}: an LSM rule with arguments but no built rule never
     * matches). With SELinux each condition compares one field of the context
     * ({@code selinux_audit_rule_match}, {@code Audit_equal}).
     */
    private static boolean objectLabelHolds(Rule r, FileFacts f) {
        if (r.lsm().isEmpty()) {
            return true;
        }
        if (f.label() == null) {
            return false;
        }
        for (Map.Entry<LsmKey, String> e : r.lsm().entrySet()) {
            if (e.getKey().isObject() && !e.getValue().equals(f.label().field(e.getKey()))) {
                return false;
            }
        }
        return true;
    }

    /** The LSM conditions about the task ({@code subj_*}), on its SELinux context. */
    private static boolean subjectLabelHolds(Rule r, AccessFacts f) {
        for (Map.Entry<LsmKey, String> e : r.lsm().entrySet()) {
            if (!e.getKey().isObject() && (f.subject() == null || !e.getValue().equals(f.subject().field(e.getKey())))) {
                return false;
            }
        }
        return true;
    }

    /** uid= tests the real id; euid= tests the effective id, or with the capability any of effective, saved, real. */
    private static boolean idMatches(IdCondition c, long real, long effective, long saved, boolean cap) {
        return switch (c.kind()) {
            case UID, GID -> c.test(real);
            case EUID, EGID -> cap ? c.test(effective) || c.test(saved) || c.test(real) : c.test(effective);
            case FOWNER, FGROUP -> throw new IllegalStateException("not a task id: " + c.kind());
        };
    }

    /** {@code ima_match_rule_data()}: optional uid, then keyring or label membership (no list matches all). */
    private static boolean matchesData(Rule r, AccessFacts f) {
        if (r.uid() != null && r.uid().kind() == IdKind.UID && !r.uid().test(f.uid())) {
            return false;
        }
        List<String> list = r.func() == Func.KEY_CHECK ? r.keyrings() : r.labels();
        if (list.isEmpty()) {
            return true;
        }
        return f.funcData() != null && list.contains(f.funcData());
    }
}
