package dev.imans.policy;

import java.util.ArrayList;
import java.util.List;

/**
 * An immutable, ordered list of accepted rules: what the kernel keeps after a policy write.
 * {@link #show()} is the kernel's read-back of it, byte for byte.
 */
public final class Policy {
    private static final Policy EMPTY = new Policy(List.of());

    private final List<Rule> rules;
    /** The read-back text, made once: a large policy is read back in many small reads. */
    private String shown;
    /** What matching needs of the rules before it reads any, made at the first match. */
    private volatile RuleIndex index;
    /** What the rules test and do, made at the first question: asked for every permission event. */
    private volatile Traits traits;

    private record Traits(boolean ids, boolean mask, boolean measure, boolean audit, boolean appraise) {
        static Traits of(List<Rule> rules) {
            boolean ids = false, mask = false, measure = false, audit = false, appraise = false;
            for (Rule r : rules) {
                ids |= r.uid() != null || r.gid() != null;
                mask |= r.mask() != null;
                measure |= r.action() == Action.MEASURE;
                audit |= r.action() == Action.AUDIT;
                appraise |= r.action() == Action.APPRAISE;
            }
            return new Traits(ids, mask, measure, audit, appraise);
        }
    }

    private Traits traits() {
        Traits t = traits;
        if (t == null) {
            t = Traits.of(rules);
            traits = t;
        }
        return t;
    }

    /** Whether a rule tests the opener's ids ({@code uid= euid= gid= egid=}...). */
    public boolean testsIds() {
        return traits().ids();
    }

    /** Whether a rule tests the open mask ({@code mask=}). */
    public boolean testsMask() {
        return traits().mask();
    }

    /** Whether a rule has the action {@code measure}, {@code audit} or {@code appraise} ({@code action}). */
    public boolean has(Action action) {
        Traits t = traits();
        return switch (action) {
            case MEASURE -> t.measure();
            case AUDIT -> t.audit();
            case APPRAISE -> t.appraise();
            default -> rules.stream().anyMatch(r -> r.action() == action);
        };
    }

    private Policy(List<Rule> rules) {
        this.rules = List.copyOf(rules);
    }

    /** A policy of these rules, in this order. */
    public static Policy of(List<Rule> rules) {
        return rules.isEmpty() ? EMPTY : new Policy(rules);
    }

    /** No rules: nothing is measured, appraised, audited or hashed. */
    public static Policy empty() {
        return EMPTY;
    }

    public List<Rule> rules() {
        return rules;
    }

    public boolean isEmpty() {
        return rules.isEmpty();
    }

    /** The matcher's index of these rules (made once; a race makes it twice at worst). */
    RuleIndex index() {
        RuleIndex i = index;
        if (i == null) {
            i = new RuleIndex(rules);
            index = i;
        }
        return i;
    }

    /** The read-back text ({@code cat /sys/kernel/security/ima/policy}): one line per rule. */
    public String show() {
        // A race makes it twice at worst; a String is safely published through a plain field.
        String s = shown;
        if (s == null) {
            StringBuilder b = new StringBuilder();
            for (Rule r : rules) {
                b.append(r.show());
            }
            s = b.toString();
            shown = s;
        }
        return s;
    }

    /**
     * This policy followed by {@code more}: a second policy write on a kernel with
     * CONFIG_IMA_WRITE_POLICY appends, and rules are never removed.
     */
    public Policy append(Policy more) {
        List<Rule> all = new ArrayList<>(rules);
        all.addAll(more.rules);
        return of(all);
    }

    /** Every rule's reasons for not being enforceable here, in rule order, with the host's LSMs unknown. */
    public List<PolicyWarning> warnings() {
        return warnings(java.util.Optional.empty());
    }

    /** Every rule's reasons for not being enforceable on a kernel running {@code lsms}, in rule order. */
    public List<PolicyWarning> warnings(java.util.Optional<ActiveLsms> lsms) {
        List<PolicyWarning> out = new ArrayList<>();
        for (Rule r : rules) {
            out.addAll(Enforceability.warnings(r, lsms));
        }
        return List.copyOf(out);
    }

    /** What the rules cover but imans cannot see ({@link Enforceability#gaps}), in rule order. */
    public List<PolicyWarning> gaps() {
        List<PolicyWarning> out = new ArrayList<>();
        for (Rule r : rules) {
            out.addAll(Enforceability.gaps(r));
        }
        return List.copyOf(out);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Policy p && p.rules.equals(rules);
    }

    @Override
    public int hashCode() {
        return rules.hashCode();
    }

    @Override
    public String toString() {
        return show();
    }
}
