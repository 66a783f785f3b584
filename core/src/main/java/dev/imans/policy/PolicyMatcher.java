package dev.imans.policy;

import dev.imans.crypto.HashAlgo;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Evaluates a policy for one access, as {@code ima_match_policy()} and {@code ima_match_rules()}
 * in ima_policy.c do. Rules are walked in order; for each action class (measure, appraise, audit,
 * hash) the first matching rule decides, so a {@code dont_*} rule shadows later rules of its class
 * only. A pure function: no state, no I/O.
 *
 * <p>LSM conditions ({@code subj_*}, {@code obj_*}) never match here, since imans cannot see LSM
 * labels: a rule with one is skipped, like a kernel rule whose LSM label is inactive.
 * SETXATTR_CHECK rules are never matched per access (the kernel applies them to setxattr only).
 */
public final class PolicyMatcher {
    private PolicyMatcher() {}

    private static final int DO_MASK = Action.MEASURE.bit() | Action.APPRAISE.bit() | Action.AUDIT.bit()
            | Action.HASH.bit();

    public static MatchResult match(Policy policy, AccessFacts facts) {
        // ima_get_action asks only for the actions some rule of the loaded policy can grant.
        int flags = 0;
        for (Rule r : policy.rules()) {
            if (r.func() != Func.SETXATTR_CHECK && r.action().isDo()) {
                flags |= r.action().bit();
            }
        }
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

        for (Rule r : policy.rules()) {
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

    /** {@code ima_match_rules()}: whether every condition of the rule holds for this access. */
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
        if (r.fsMagic() != null && r.fsMagic() != f.fsMagic()) {
            return false;
        }
        if (r.fsName() != null && !r.fsName().equals(f.fsName())) {
            return false;
        }
        if (r.fsUuid() != null && !r.fsUuid().equals(f.fsUuid())) {
            return false;
        }
        if (r.uid() != null && !idMatches(r.uid(), f.uid(), f.euid(), f.suid(), f.capSetuid())) {
            return false;
        }
        if (r.gid() != null && !idMatches(r.gid(), f.gid(), f.egid(), f.sgid(), f.capSetgid())) {
            return false;
        }
        if (r.fowner() != null && !r.fowner().test(f.fowner())) {
            return false;
        }
        if (r.fgroup() != null && !r.fgroup().test(f.fgroup())) {
            return false;
        }
        return r.lsm().isEmpty();
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
