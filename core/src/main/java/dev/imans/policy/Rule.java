package dev.imans.policy;

import dev.imans.crypto.HashAlgo;
import java.util.Collections;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * One accepted policy rule, the fields of the kernel's {@code struct ima_rule_entry}. Absent
 * conditions are {@code null} ({@link #func} is {@link Func#NONE}, collections are empty, flags
 * false). Create rules with {@link PolicyParser}; the compact constructor only copies.
 *
 * @param uid            the shared uid/euid slot ({@link IdKind#UID} or {@link IdKind#EUID})
 * @param gid            the shared gid/egid slot ({@link IdKind#GID} or {@link IdKind#EGID})
 * @param fsMagic        {@code fsmagic=}, an unsigned 64-bit value
 * @param keyrings       {@code keyrings=} items, empty when absent
 * @param labels         {@code label=} items, empty when absent
 * @param appraiseAlgos  {@code appraise_algos=}, empty when absent
 * @param digsigRequired {@code appraise_type=imasig} or {@code sigv3} (IMA_DIGSIG_REQUIRED)
 * @param modsigAllowed  {@code appraise_type=imasig|modsig} (IMA_MODSIG_ALLOWED)
 * @param verityRequired {@code digest_type=verity} (IMA_VERITY_REQUIRED)
 * @param checkBlacklist {@code appraise_flag=check_blacklist} on kernels that still print it
 * @param origin         source line and token columns
 */
public record Rule(
        Action action,
        Func func,
        MaskCondition mask,
        Long fsMagic,
        String fsName,
        List<String> keyrings,
        List<String> labels,
        Integer pcr,
        UUID fsUuid,
        IdCondition uid,
        IdCondition gid,
        IdCondition fowner,
        IdCondition fgroup,
        Set<HashAlgo> appraiseAlgos,
        Map<LsmKey, String> lsm,
        Template template,
        boolean digsigRequired,
        boolean modsigAllowed,
        boolean verityRequired,
        boolean checkBlacklist,
        boolean permitDirectio,
        Origin origin) {

    public Rule {
        if (action == null || func == null || origin == null) {
            throw new IllegalArgumentException("action, func and origin are required");
        }
        keyrings = List.copyOf(keyrings);
        labels = List.copyOf(labels);
        appraiseAlgos = Collections.unmodifiableSet(
                appraiseAlgos.isEmpty() ? EnumSet.noneOf(HashAlgo.class) : EnumSet.copyOf(appraiseAlgos));
        lsm = Collections.unmodifiableMap(lsm.isEmpty() ? new EnumMap<>(LsmKey.class) : new EnumMap<>(lsm));
    }

    /** The source line (1-based; builtin rules count their own list). */
    public int line() {
        return origin.line();
    }

    public boolean hasFunc() {
        return func != Func.NONE;
    }

    /** This rule's read-back: one kernel line, ending in {@code " \n"}. */
    public String show() {
        return RulePrinter.show(this);
    }

    /** Whether imans can enforce this rule from userspace; {@link #enforceabilityWarnings()} says why not. */
    public boolean isEnforceable() {
        return Enforceability.warnings(this).isEmpty();
    }

    public List<PolicyWarning> enforceabilityWarnings() {
        return Enforceability.warnings(this);
    }
}
