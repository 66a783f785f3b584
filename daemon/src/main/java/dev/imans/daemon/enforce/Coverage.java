package dev.imans.daemon.enforce;

import dev.imans.appraise.AppraiseMode;
import dev.imans.appraise.Requirements;
import dev.imans.crypto.HashAlgo;
import dev.imans.policy.Action;
import dev.imans.policy.FileFacts;
import dev.imans.policy.MatchResult;
import dev.imans.policy.PolicyMatcher;
import dev.imans.policy.Rule;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Which appraisals a file could ever need, whoever opens it from wherever: the basis of the fast
 * paths (appraisal and measurement). An ignore mark silences the group for every opener in every namespace, so it is only
 * placed when the verdict cannot depend on the opener.
 *
 * <p>A rule "may cover" a file as {@link PolicyMatcher#mayCover} says: every condition about the file
 * holds (fsmagic, fsname, fsuuid, fowner, fgroup, judged by the same code as each access) and its func
 * is one imans sees (none, FILE_CHECK, BPRM_CHECK); conditions about the opener (uid, euid, gid, egid,
 * mask) are assumed to hold. {@code dont_appraise} and {@code dont_measure} rules are ignored, which can
 * only add coverage. Rules with LSM conditions never match here and cover nothing.
 */
final class Coverage {
    private Coverage() {}

    /**
     * Every answer below for one kind of file under one snapshot, as {@link Policies#coverage} keeps
     * them. Collections are immutable and in scope order.
     */
    record OfFile(boolean any, List<AppraisalKey> requirements, List<MeasuredPcr> measurePcrs,
                  List<Scope> auditScopes, boolean rehash, boolean enforce, HashAlgo defaultAlgo) {}

    static OfFile of(Policies p, FileFacts f, HashAlgo defaultAlgo) {
        return new OfFile(anyMayCover(p, f), List.copyOf(requirements(p, f, defaultAlgo)),
                List.copyOf(measurePcrs(p, f)), List.copyOf(auditScopes(p, f)), rehashMayCover(p, f),
                enforceMayCover(p, f), defaultAlgo);
    }

    /**
     * Whether any scope that appraises may ask for an appraisal of this file, or any scope (whatever
     * its appraise mode: {@code ima_appraise=} does not govern measurement) may measure it.
     */
    static boolean anyMayCover(Policies p, FileFacts f) {
        for (Scope s : p.all()) {
            for (Rule r : s.policy().rules()) {
                if ((r.action() == Action.MEASURE || r.action() == Action.AUDIT) && mayCover(r, f)) {
                    return true;
                }
                if (r.action() == Action.APPRAISE && s.mode() != AppraiseMode.OFF && mayCover(r, f)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** A PCR a scope's {@code measure} rule may extend with this file. */
    record MeasuredPcr(Scope scope, int pcr) {}

    /**
     * For every scope, the PCRs of its {@code measure} rules that may cover the file: until each has
     * measured the file's current version there, an ignore mark would hide opens it must see.
     */
    static Set<MeasuredPcr> measurePcrs(Policies p, FileFacts f) {
        Set<MeasuredPcr> out = new LinkedHashSet<>();
        for (Scope s : p.all()) {
            for (Rule r : s.policy().rules()) {
                if (r.action() == Action.MEASURE && mayCover(r, f)) {
                    out.add(new MeasuredPcr(s, r.pcr() != null ? r.pcr() : MatchResult.DEFAULT_PCR));
                }
            }
        }
        return out;
    }

    /**
     * The scopes whose {@code audit} rules may cover the file: until each has written its record for the
     * file's current version, an ignore mark would hide the open that must write it.
     */
    static Set<Scope> auditScopes(Policies p, FileFacts f) {
        Set<Scope> out = new LinkedHashSet<>();
        for (Scope s : p.all()) {
            for (Rule r : s.policy().rules()) {
                if (r.action() == Action.AUDIT && mayCover(r, f)) {
                    out.add(s);
                    break;
                }
            }
        }
        return out;
    }

    /**
     * Whether a scope that re-hashes on close may appraise this file: then every open must be seen,
     * since a writer's open is what earns the re-hash, and an ignore mark would hide it.
     */
    static boolean rehashMayCover(Policies p, FileFacts f) {
        for (Scope s : p.all()) {
            if (s.mode() == AppraiseMode.OFF || !s.rehashOnClose()) {
                continue;
            }
            for (Rule r : s.policy().rules()) {
                if (r.action() == Action.APPRAISE && mayCover(r, f)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Whether a scope in enforce mode may appraise this file. */
    static boolean enforceMayCover(Policies p, FileFacts f) {
        for (Scope s : p.all()) {
            if (s.mode() != AppraiseMode.ENFORCE) {
                continue;
            }
            for (Rule r : s.policy().rules()) {
                if (r.action() == Action.APPRAISE && mayCover(r, f)) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * The distinct requirements of every appraise rule, in any appraising scope, that may cover the file,
     * each with the keyring of its scope.
     */
    static Set<AppraisalKey> requirements(Policies p, FileFacts f, HashAlgo defaultAlgo) {
        Set<AppraisalKey> out = new LinkedHashSet<>();
        for (Scope s : p.all()) {
            if (s.mode() == AppraiseMode.OFF) {
                continue;
            }
            for (Rule r : s.policy().rules()) {
                if (r.action() == Action.APPRAISE && mayCover(r, f)) {
                    out.add(new AppraisalKey(new Requirements(r.digsigRequired(), r.appraiseAlgos(), defaultAlgo),
                            s.keyring()));
                }
            }
        }
        return out;
    }

    /**
     * Whether every scope whose appraise rules may cover the file re-hashes on close: only then may an
     * appraised writer's close relabel it. A scope that appraises it without re-hash (the host's, say,
     * on a filesystem a container shares) keeps "changed means refused", which a namespace's
     * {@code --rehash-on-close} must not lift for it.
     */
    static boolean onlyRehashingScopesMayAppraise(Policies p, FileFacts f) {
        for (Scope s : p.all()) {
            if (s.mode() == AppraiseMode.OFF || s.rehashOnClose()) {
                continue;
            }
            for (Rule r : s.policy().rules()) {
                if (r.action() == Action.APPRAISE && mayCover(r, f)) {
                    return false;
                }
            }
        }
        return true;
    }

    static boolean mayCover(Rule r, FileFacts f) {
        return PolicyMatcher.mayCover(r, f);
    }
}
