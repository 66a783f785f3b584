package dev.imans.policy;

/**
 * A uid/euid/gid/egid/fowner/fgroup condition. {@code value} is the id as the kernel holds it
 * (0..4294967294; 4294967295 is the invalid id and is refused); the read-back prints it with
 * {@code %d}, so ids from 2^31 on read back negative.
 */
public record IdCondition(IdKind kind, IdOp op, long value) {
    public IdCondition {
        if (kind == null || op == null) {
            throw new IllegalArgumentException("kind and op are required");
        }
        if (value < 0 || value > MAX_ID) {
            throw new IllegalArgumentException("id out of range: " + value);
        }
    }

    /** The largest valid id: uid_t is 32 bits and (uid_t)-1 is INVALID_UID. */
    public static final long MAX_ID = 0xFFFF_FFFEL;

    public Token token() {
        return kind.token(op);
    }

    public boolean test(long actual) {
        return op.test(actual, value);
    }

    /** The token as the kernel prints it back ({@code "%d"} of the 32-bit value). */
    public String show() {
        return token().format(Integer.toString((int) value));
    }

    record Spec(IdKind kind, IdOp op) {}
}
