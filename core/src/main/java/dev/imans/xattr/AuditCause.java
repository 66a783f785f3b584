package dev.imans.xattr;

/**
 * The kernel's audit {@code op}/{@code cause} pairs for data appraisal and digest collection
 * (security/integrity/ima/ima_appraise.c {@code ima_appraise_measurement}/{@code xattr_verify},
 * ima_api.c {@code ima_collect_measurement}, ima_main.c {@code process_measurement}). The codec
 * names the cause a bad value earns; the appraisal reports the same constants.
 */
public enum AuditCause {
    INVALID_HASH(Op.APPRAISE_DATA, "invalid-hash"),
    MISSING_HASH(Op.APPRAISE_DATA, "missing-hash"),
    IMA_SIGNATURE_REQUIRED(Op.APPRAISE_DATA, "IMA-signature-required"),
    VERITY_SIGNATURE_REQUIRED(Op.APPRAISE_DATA, "verity-signature-required"),
    INVALID_SIGNATURE(Op.APPRAISE_DATA, "invalid-signature"),
    INVALID_SIGNATURE_VERSION(Op.APPRAISE_DATA, "invalid-signature-version"),
    INVALID_VERITY_SIGNATURE(Op.APPRAISE_DATA, "invalid-verity-signature"),
    UNKNOWN_IMA_DATA(Op.APPRAISE_DATA, "unknown-ima-data"),
    /** The initial value of {@code cause} in ima_appraise_measurement, left when nothing set another. */
    UNKNOWN(Op.APPRAISE_DATA, "unknown"),
    COLLECT_FAILED(Op.COLLECT_DATA, "failed"),
    NO_VERITY_DIGEST(Op.COLLECT_DATA, "no-verity-digest"),
    DENIED_HASH_ALGORITHM(Op.COLLECT_DATA, "denied-hash-algorithm");

    /** The audit record's {@code op=} value. */
    public enum Op {
        APPRAISE_DATA("appraise_data"),
        COLLECT_DATA("collect_data");

        private final String text;

        Op(String text) {
            this.text = text;
        }

        public String text() {
            return text;
        }

        @Override
        public String toString() {
            return text;
        }
    }

    private final Op op;
    private final String text;

    AuditCause(Op op, String text) {
        this.op = op;
        this.text = text;
    }

    public Op op() {
        return op;
    }

    /** The {@code cause=} value, exactly as the kernel prints it. */
    public String text() {
        return text;
    }

    @Override
    public String toString() {
        return text;
    }
}
