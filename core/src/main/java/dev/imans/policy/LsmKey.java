package dev.imans.policy;

/**
 * The LSM conditions, {@code enum lsm_rule_types} in security/integrity/ima/ima_policy.c (this is
 * also their read-back order). They need the active LSM's view of labels: imans judges them with
 * SELinux contexts ({@link SelinuxContext}) where SELinux is active.
 */
public enum LsmKey {
    OBJ_USER(Token.OBJ_USER),
    OBJ_ROLE(Token.OBJ_ROLE),
    OBJ_TYPE(Token.OBJ_TYPE),
    SUBJ_USER(Token.SUBJ_USER),
    SUBJ_ROLE(Token.SUBJ_ROLE),
    SUBJ_TYPE(Token.SUBJ_TYPE);

    private final Token token;

    LsmKey(Token token) {
        this.token = token;
    }

    public Token token() {
        return token;
    }

    /** Whether this condition is about the file ({@code obj_*}) rather than the task ({@code subj_*}). */
    public boolean isObject() {
        return this == OBJ_USER || this == OBJ_ROLE || this == OBJ_TYPE;
    }

    static LsmKey of(Token token) {
        for (LsmKey k : values()) {
            if (k.token == token) {
                return k;
            }
        }
        return null;
    }
}
