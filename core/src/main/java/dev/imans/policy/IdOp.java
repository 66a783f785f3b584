package dev.imans.policy;

/** The operator of a uid/gid condition: it is part of the token ({@code uid=}, {@code uid>}, {@code uid<}). */
public enum IdOp {
    EQ,
    GT,
    LT;

    /** {@code uid_eq}/{@code uid_gt}/{@code uid_lt}: ids compare as unsigned 32-bit values. */
    public boolean test(long actual, long ruleValue) {
        return switch (this) {
            case EQ -> actual == ruleValue;
            case GT -> actual > ruleValue;
            case LT -> actual < ruleValue;
        };
    }
}
