package dev.imans.appraise;

import dev.imans.crypto.HashAlgo;
import dev.imans.crypto.Keyring;
import dev.imans.xattr.AuditCause;
import dev.imans.xattr.ImaXattr;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * An appraisal under a mode: whether the open is allowed, what the kernel would audit, and what
 * fix mode writes.
 *
 * @param mode the {@code ima_appraise=} mode
 * @param allow false only in enforce mode after a failure
 * @param result the final verdict (after a fix); empty in {@link AppraiseMode#OFF}, which appraises nothing
 * @param audits the {@code INTEGRITY_DATA} records the kernel emits, in order: a failed appraisal is
 *     audited even when fix mode then passes it, and {@code denied-hash-algorithm} follows a pass
 * @param fixedXattr the value fix mode writes to {@code security.ima}
 */
public record Decision(AppraiseMode mode, boolean allow, Optional<AppraisalResult> result,
        List<AppraisalResult> audits, Optional<ImaXattr> fixedXattr) {

    public Decision {
        audits = List.copyOf(audits);
    }

    /** Appraises and applies the mode as {@code process_measurement} does. */
    public static Decision decide(AppraiseMode mode, Optional<ImaXattr> xattr, FileDigests digests,
            Requirements req, Keyring keyring) {
        if (mode == AppraiseMode.OFF) {
            return new Decision(mode, true, Optional.empty(), List.of(), Optional.empty());
        }
        List<AppraisalResult> audits = new ArrayList<>();
        Optional<ImaXattr> fixed = Optional.empty();
        AppraisalResult r = Appraiser.verifyXattr(xattr, digests, req, keyring);
        if (!r.passed()) {
            audits.add(r);
            if (mode == AppraiseMode.FIX && FixMode.mayReplace(xattr)) {
                HashAlgo algo = FixMode.algorithm(xattr, req.defaultAlgo());
                Optional<byte[]> digest = r.algo() == algo ? r.digest() : Optional.empty();
                if (digest.isEmpty()) {
                    digest = tryDigest(digests, algo);
                }
                if (digest.isPresent()) {
                    fixed = FixMode.replacement(xattr, algo, digest.get());
                    r = AppraisalResult.pass(algo, digest.get(), fixed, "fix mode rewrote security.ima with the"
                            + " file's " + algo + " digest (it failed with " + r.causeText().orElse("?") + ": "
                            + r.reason() + ")");
                }
            }
        }
        if (r.passed()) {
            AppraisalResult checked = Appraiser.checkAllowedAlgo(r, req);
            if (!checked.passed()) {
                audits.add(checked);
            }
            r = checked;
        }
        return new Decision(mode, !mode.denies(r), Optional.of(r), audits, fixed);
    }

    /** The kernel cannot fix a file it cannot hash: the failure stays as it was. */
    private static Optional<byte[]> tryDigest(FileDigests digests, HashAlgo algo) {
        try {
            byte[] d = digests.digest(algo);
            return d != null && d.length == algo.digestSize() ? Optional.of(d) : Optional.empty();
        } catch (java.io.IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** The causes audited, for logs and tests: e.g. {@code [invalid-hash]}. */
    public List<AuditCause> auditCauses() {
        return audits.stream().map(a -> a.cause().orElseThrow()).toList();
    }
}
