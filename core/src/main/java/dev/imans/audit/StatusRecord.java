package dev.imans.audit;

import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A type 1802 policy status record, no file fields: {@code op=policy_update} when a policy write
 * is closed (ima_fs.c {@code ima_release_policy}: cause {@code completed} with res=1, or
 * {@code failed} with res=0; {@code signed policy required} from {@code ima_write_policy}) and
 * {@code op=update_policy} for each rejected rule (ima_policy.c {@code ima_parse_add_rule}: cause
 * {@code invalid-policy} or {@code -ENOMEM}, res=0).
 */
public record StatusRecord(Subject subject, Op operation, String cause, boolean res, int errno)
        implements IntegrityMessage {

    /** The status operations, with the kernel's strings. */
    public enum Op {
        POLICY_UPDATE("policy_update"),
        UPDATE_POLICY("update_policy");

        private final String text;

        Op(String text) {
            this.text = text;
        }

        public String text() {
            return text;
        }

        public static Optional<Op> byText(String text) {
            for (Op op : values()) {
                if (op.text.equals(text)) {
                    return Optional.of(op);
                }
            }
            return Optional.empty();
        }
    }

    public StatusRecord {
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(operation, "operation");
        Checks.bareText("cause", cause);
    }

    /** The record a policy close writes: completed (res=1) or failed (res=0). */
    public static StatusRecord policyUpdate(Subject subject, boolean completed) {
        return new StatusRecord(subject, Op.POLICY_UPDATE, completed ? "completed" : "failed", completed, 0);
    }

    /** The record a rejected policy rule writes. */
    public static StatusRecord invalidPolicy(Subject subject) {
        return new StatusRecord(subject, Op.UPDATE_POLICY, "invalid-policy", false, 0);
    }

    @Override
    public AuditType type() {
        return AuditType.INTEGRITY_STATUS;
    }

    @Override
    public String op() {
        return operation.text();
    }

    @Override
    public Optional<UntrustedString> name() {
        return Optional.empty();
    }

    @Override
    public OptionalLong mntNs() {
        return OptionalLong.empty();
    }

    @Override
    public Optional<InodeRef> inode() {
        return Optional.empty();
    }
}
