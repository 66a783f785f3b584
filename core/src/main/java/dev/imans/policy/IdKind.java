package dev.imans.policy;

/**
 * Which id a uid/gid condition compares. UID and EUID share one slot in a rule (as do GID and
 * EGID): the kernel keeps one value and one operator for both.
 */
public enum IdKind {
    UID,
    EUID,
    GID,
    EGID,
    FOWNER,
    FGROUP;

    /** The token for this id with the given operator; the token table stays the one source of spelling. */
    public Token token(IdOp op) {
        return switch (this) {
            case UID -> pick(op, Token.UID_EQ, Token.UID_GT, Token.UID_LT);
            case EUID -> pick(op, Token.EUID_EQ, Token.EUID_GT, Token.EUID_LT);
            case GID -> pick(op, Token.GID_EQ, Token.GID_GT, Token.GID_LT);
            case EGID -> pick(op, Token.EGID_EQ, Token.EGID_GT, Token.EGID_LT);
            case FOWNER -> pick(op, Token.FOWNER_EQ, Token.FOWNER_GT, Token.FOWNER_LT);
            case FGROUP -> pick(op, Token.FGROUP_EQ, Token.FGROUP_GT, Token.FGROUP_LT);
        };
    }

    public String key() {
        return token(IdOp.EQ).key();
    }

    private static Token pick(IdOp op, Token eq, Token gt, Token lt) {
        return switch (op) {
            case EQ -> eq;
            case GT -> gt;
            case LT -> lt;
        };
    }

    /** The kind and operator a token stands for, or null if it is not an id token. */
    static IdCondition.Spec of(Token token) {
        return Specs.BY_TOKEN.get(token);
    }

    /** Built once, on first use (every word of every parsed rule asks). */
    private static final class Specs {
        static final java.util.Map<Token, IdCondition.Spec> BY_TOKEN = new java.util.EnumMap<>(Token.class);

        static {
            for (IdKind k : values()) {
                for (IdOp op : IdOp.values()) {
                    BY_TOKEN.put(k.token(op), new IdCondition.Spec(k, op));
                }
            }
        }
    }
}
