package dev.imans.policy;

import dev.imans.crypto.HashAlgo;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * What the policy asks for one access, {@code ima_match_policy()}'s result.
 *
 * @param measure           a measure rule won its class
 * @param appraise          an appraise rule won its class
 * @param audit             an audit rule matched
 * @param hash              a hash rule won its class and no appraise rule cleared it
 * @param pcr               the PCR to extend: from the last matching rule with {@code pcr=}, else {@link #DEFAULT_PCR}
 * @param template          the template from the last matching rule with {@code template=}, null for the default
 * @param signatureRequired {@code appraise_type=imasig|sigv3}: a hash in security.ima is not enough
 * @param modsigAllowed     an appended signature would also do
 * @param verityRequired    {@code digest_type=verity}
 * @param appraiseAlgos     the hash algorithms the winning appraise rule allows; empty means any
 * @param permitDirectio    a matching rule has {@code permit_directio}
 * @param matched           the rules that matched and counted, in policy order
 */
public record MatchResult(
        boolean measure,
        boolean appraise,
        boolean audit,
        boolean hash,
        int pcr,
        Template template,
        boolean signatureRequired,
        boolean modsigAllowed,
        boolean verityRequired,
        Set<HashAlgo> appraiseAlgos,
        boolean permitDirectio,
        List<Rule> matched) {

    /** CONFIG_IMA_MEASURE_PCR_IDX: 10 on every distribution kernel. */
    public static final int DEFAULT_PCR = 10;

    public MatchResult {
        appraiseAlgos = Collections.unmodifiableSet(
                appraiseAlgos.isEmpty() ? EnumSet.noneOf(HashAlgo.class) : EnumSet.copyOf(appraiseAlgos));
        matched = List.copyOf(matched);
    }

    /** The {@code do} actions that apply, in kernel bit order. */
    public Set<Action> actions() {
        Set<Action> s = EnumSet.noneOf(Action.class);
        if (measure) {
            s.add(Action.MEASURE);
        }
        if (appraise) {
            s.add(Action.APPRAISE);
        }
        if (audit) {
            s.add(Action.AUDIT);
        }
        if (hash) {
            s.add(Action.HASH);
        }
        return s;
    }

    /** Nothing to do for this access. */
    public boolean isNone() {
        return !measure && !appraise && !audit && !hash;
    }

    /** Whether {@code algo} may be used for this file's security.ima hash under {@code appraise_algos=}. */
    public boolean allowsAlgo(HashAlgo algo) {
        return appraiseAlgos.isEmpty() || appraiseAlgos.contains(algo);
    }
}
