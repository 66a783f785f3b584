package dev.imans.policy;

/**
 * A rule's action, with the kernel's bit (security/integrity/ima/ima_policy.c: {@code MEASURE},
 * {@code DONT_MEASURE}, ...). A {@code dont_*} bit is its {@code do} bit shifted left by one,
 * which {@link PolicyMatcher} relies on as {@code ima_match_policy} does.
 */
public enum Action {
    MEASURE(0x001, Token.MEASURE),
    DONT_MEASURE(0x002, Token.DONT_MEASURE),
    APPRAISE(0x004, Token.APPRAISE),
    DONT_APPRAISE(0x008, Token.DONT_APPRAISE),
    AUDIT(0x040, Token.AUDIT),
    HASH(0x100, Token.HASH),
    DONT_HASH(0x200, Token.DONT_HASH);

    private final int bit;
    private final Token token;

    Action(int bit, Token token) {
        this.bit = bit;
        this.token = token;
    }

    public int bit() {
        return bit;
    }

    public Token token() {
        return token;
    }

    /** The word in a policy line, e.g. {@code dont_measure}. */
    public String keyword() {
        return token.pattern();
    }

    /** True for measure, appraise, audit and hash; false for the {@code dont_*} actions. */
    public boolean isDo() {
        return this == MEASURE || this == APPRAISE || this == AUDIT || this == HASH;
    }

    static Action of(Token token) {
        for (Action a : values()) {
            if (a.token == token) {
                return a;
            }
        }
        return null;
    }

    @Override
    public String toString() {
        return keyword();
    }
}
