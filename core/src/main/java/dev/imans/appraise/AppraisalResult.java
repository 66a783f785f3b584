package dev.imans.appraise;

import dev.imans.crypto.HashAlgo;
import dev.imans.xattr.AuditCause;
import dev.imans.xattr.ImaXattr;
import java.util.Optional;

/**
 * The structured verdict of one appraisal: never a bare boolean.
 *
 * @param status the kernel's integrity status
 * @param cause the audit cause (with its {@code op}) when the status is not {@link IntegrityStatus#PASS}
 * @param algo the algorithm the file was (or would be) hashed with, as the kernel chooses it
 * @param digest the file digest computed for {@code algo}, when it was computed
 * @param xattr the decoded {@code security.ima}, if the file has one
 * @param reason a sentence for people: what was compared and why it failed or passed
 */
public record AppraisalResult(IntegrityStatus status, Optional<AuditCause> cause, HashAlgo algo,
        Optional<byte[]> digest, Optional<ImaXattr> xattr, String reason) {

    public boolean passed() {
        return status == IntegrityStatus.PASS;
    }

    /**
     * Whether the appraised value is a signature, 0x03 or 0x06: appraising it sets the kernel's
     * {@code IMA_DIGSIG} (xattr_verify, ima_appraise.c), after which writers are refused in enforce mode
     * (process_measurement) and a writer's close never re-hashes the file (ima_update_xattr).
     */
    public boolean signed() {
        return FixMode.isSignature(xattr);
    }

    /** The audit {@code op=} value, or empty on pass. */
    public Optional<String> op() {
        return cause.map(c -> c.op().text());
    }

    /** The audit {@code cause=} value, or empty on pass. */
    public Optional<String> causeText() {
        return cause.map(AuditCause::text);
    }

    static AppraisalResult pass(HashAlgo algo, byte[] digest, Optional<ImaXattr> xattr, String reason) {
        return new AppraisalResult(IntegrityStatus.PASS, Optional.empty(), algo, Optional.of(digest), xattr, reason);
    }

    static AppraisalResult fail(IntegrityStatus status, AuditCause cause, HashAlgo algo, byte[] digest,
            Optional<ImaXattr> xattr, String reason) {
        return new AppraisalResult(status, Optional.of(cause), algo, Optional.ofNullable(digest), xattr, reason);
    }
}
