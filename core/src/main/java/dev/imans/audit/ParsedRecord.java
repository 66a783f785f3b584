package dev.imans.audit;

import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * A record line split into its header and fields, before it is read as an {@link AuditRecord}.
 * Fields keep their order and repeats (a rejected policy rule may log {@code func=} twice).
 *
 * @param stamp      the {@code audit(...)} stamp; empty when the line had a placeholder such as
 *                   {@code audit(...)} or no header at all
 * @param typeNumber the {@code type=} number
 */
public record ParsedRecord(Optional<AuditStamp> stamp, int typeNumber, List<AuditField> fields) {
    /** Keys whose values the kernel writes with audit_log_untrustedstring. */
    private static final Set<String> UNTRUSTED_KEYS = Set.of("comm", "name", "dev", "file", "exe");

    public ParsedRecord {
        fields = List.copyOf(fields);
    }

    public Optional<AuditType> type() {
        return AuditType.byNumber(typeNumber);
    }

    /** The first field with this key. */
    public Optional<AuditField> field(String key) {
        return fields.stream().filter(f -> f.key().equals(key)).findFirst();
    }

    /**
     * The first value of {@code key} as readable text: untrusted strings ({@code comm name dev file
     * exe}, and every value of a seed-format rule record) decoded from quotes or hex (as UTF-8),
     * other values without their quotes. {@code exe=(null)} reads as {@code (null)}.
     */
    public Optional<String> value(String key) {
        return field(key).map(this::decoded);
    }

    private String decoded(AuditField f) {
        boolean untrusted = UNTRUSTED_KEYS.contains(f.key()) || isSeedRule() && !f.key().equals("res");
        if (!untrusted || !f.quoted() && f.raw().equals("(null)")) {
            return f.text();
        }
        return f.untrusted().toString();
    }

    private boolean isSeedRule() {
        return typeNumber == AuditType.INTEGRITY_RULE.number()
                && (fields.isEmpty() || !fields.getFirst().key().equals("file"));
    }

    /**
     * Reads the fields as the record they describe (see {@link AuditRecord} for which type each
     * text becomes).
     *
     * @throws AuditParseException naming the field that is missing, out of place or malformed
     */
    public AuditRecord toRecord() {
        return RecordReader.read(this);
    }
}
