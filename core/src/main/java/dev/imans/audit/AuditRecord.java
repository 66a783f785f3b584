package dev.imans.audit;

/**
 * One integrity audit record's content (the text after {@code audit(...): }). Turn it into text
 * with {@link AuditEncoder}; read text back with {@link AuditRecordParser}.
 *
 * <p>Each text has exactly one record form, so parse(encode(r)) equals r: integrity messages with
 * a status or PCR operation known to {@link StatusRecord.Op} / {@link PcrRecord.Op} are those
 * records, every other {@code integrity_audit_message} body is an {@link IntegrityRecord}.
 */
public sealed interface AuditRecord permits IntegrityMessage, RuleRecord, AuditMeasurementRecord {
}
