package dev.imans.audit;

/**
 * Which kernel's text to write. The differences, all from the kernel sources:
 *
 * <table>
 * <caption>SEED versus CURRENT</caption>
 * <tr><th></th><th>{@link #SEED}</th><th>{@link #CURRENT}</th></tr>
 * <tr><td>{@code op=}, {@code cause=}</td><td>quoted ({@code audit_log_string}, kernels up to 5.9)</td>
 *     <td>bare ({@code op=%s cause=%s}, integrity_audit.c since 5.10)</td></tr>
 * <tr><td>{@code errno=}</td><td>absent</td><td>{@code res=%d errno=%d} at the end</td></tr>
 * <tr><td>policy rule records</td><td>type 1805, every value an untrusted string
 *     (ima_policy.c {@code ima_log_string_op} before 4.19)</td>
 *     <td>type 1807, values bare ({@code "%s "})</td></tr>
 * </table>
 *
 * <p>{@code subj=} is written whenever a record carries an LSM context, in both formats:
 * {@code audit_log_task_context} was called by the 2017 kernels too; the seed's record has none
 * because its kernel ran without an LSM. Whether {@code mnt_ns=} is written is not a property of
 * the format but of the encoder ({@link AuditEncoder#namespaceFields()}).
 */
public enum AuditFormat {
    /** The 2017 IMA-namespace patch set on 4.11 (the seed's record); imans's default. */
    SEED,
    /** Today's kernel (checked against 6.1). */
    CURRENT;

    /** The record type a parsed policy rule is logged with. */
    public AuditType ruleRecordType() {
        return this == SEED ? AuditType.INTEGRITY_RULE : AuditType.INTEGRITY_POLICY_RULE;
    }

    boolean quotesOpAndCause() {
        return this == SEED;
    }

    boolean writesErrno() {
        return this == CURRENT;
    }

    boolean escapesRuleValues() {
        return this == SEED;
    }
}
