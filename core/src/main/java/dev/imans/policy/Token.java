package dev.imans.policy;

import java.util.Optional;

/**
 * The kernel's policy token table, {@code policy_tokens} in security/integrity/ima/ima_policy.c,
 * in the kernel's order. The parser matches tokens against these patterns (as
 * {@code match_token} does: the first pattern that matches wins, {@code %s} needs at least one
 * character) and the printer formats values through the same patterns, so the two cannot drift.
 */
public enum Token {
    MEASURE("measure"),
    DONT_MEASURE("dont_measure"),
    APPRAISE("appraise"),
    DONT_APPRAISE("dont_appraise"),
    AUDIT("audit"),
    HASH("hash"),
    DONT_HASH("dont_hash"),
    OBJ_USER("obj_user=%s"),
    OBJ_ROLE("obj_role=%s"),
    OBJ_TYPE("obj_type=%s"),
    SUBJ_USER("subj_user=%s"),
    SUBJ_ROLE("subj_role=%s"),
    SUBJ_TYPE("subj_type=%s"),
    FUNC("func=%s"),
    MASK("mask=%s"),
    FSMAGIC("fsmagic=%s"),
    FSNAME("fsname=%s"),
    FSUUID("fsuuid=%s"),
    UID_EQ("uid=%s"),
    EUID_EQ("euid=%s"),
    GID_EQ("gid=%s"),
    EGID_EQ("egid=%s"),
    FOWNER_EQ("fowner=%s"),
    FGROUP_EQ("fgroup=%s"),
    UID_GT("uid>%s"),
    EUID_GT("euid>%s"),
    GID_GT("gid>%s"),
    EGID_GT("egid>%s"),
    FOWNER_GT("fowner>%s"),
    FGROUP_GT("fgroup>%s"),
    UID_LT("uid<%s"),
    EUID_LT("euid<%s"),
    GID_LT("gid<%s"),
    EGID_LT("egid<%s"),
    FOWNER_LT("fowner<%s"),
    FGROUP_LT("fgroup<%s"),
    DIGEST_TYPE("digest_type=%s"),
    APPRAISE_TYPE("appraise_type=%s"),
    APPRAISE_FLAG("appraise_flag=%s"),
    APPRAISE_ALGOS("appraise_algos=%s"),
    PERMIT_DIRECTIO("permit_directio"),
    PCR("pcr=%s"),
    TEMPLATE("template=%s"),
    KEYRINGS("keyrings=%s"),
    LABEL("label=%s");

    private static final String ARG = "%s";
    private static final Token[] TABLE = values();

    private final String pattern;
    /** Computed once: the parser matches every word of every rule against the whole table. */
    private final String prefix;
    private final String key;
    private final boolean value;

    Token(String pattern) {
        this.pattern = pattern;
        this.value = pattern.endsWith(ARG);
        this.prefix = value ? pattern.substring(0, pattern.length() - ARG.length()) : pattern;
        this.key = value ? pattern.substring(0, pattern.length() - ARG.length() - 1) : pattern;
    }

    /** The kernel's pattern, e.g. {@code uid>%s} or {@code permit_directio}. */
    public String pattern() {
        return pattern;
    }

    public boolean takesValue() {
        return value;
    }

    /** The token's name without operator and value: {@code uid} for {@code uid>%s}, {@code measure} for {@code measure}. */
    public String key() {
        return key;
    }

    /** The pattern with its value filled in, as {@code seq_printf(m, pt(token), value)} prints it. */
    public String format(String value) {
        return takesValue() ? prefix() + value : pattern;
    }

    private String prefix() {
        return prefix;
    }

    /** A token of a rule line matched against the table; {@code value} is empty for flag tokens. */
    public record Match(Token token, String value) {}

    /** {@code match_token()}: the first pattern that matches, or empty (the kernel's {@code Opt_err}). */
    public static Optional<Match> match(String word) {
        for (Token t : TABLE) {
            if (!t.takesValue()) {
                if (t.pattern.equals(word)) {
                    return Optional.of(new Match(t, ""));
                }
            } else {
                String prefix = t.prefix();
                if (word.length() > prefix.length() && word.startsWith(prefix)) {
                    return Optional.of(new Match(t, word.substring(prefix.length())));
                }
            }
        }
        return Optional.empty();
    }
}
