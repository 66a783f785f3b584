package dev.imans.cli;

import dev.imans.appraise.AppraisalResult;
import dev.imans.appraise.IntegrityStatus;
import dev.imans.appraise.Appraiser;
import dev.imans.appraise.Requirements;
import dev.imans.crypto.FileDigester;
import dev.imans.crypto.Keyring;
import dev.imans.linux.LinuxException;
import dev.imans.linux.Xattr;
import dev.imans.xattr.ImaXattr;
import java.nio.file.Path;
import java.util.Optional;

/** Appraises a file on disk: reads its {@code security.ima}, hashes it only if the appraisal asks. */
final class LocalAppraisal {
    private LocalAppraisal() {}

    record Outcome(Optional<byte[]> raw, AppraisalResult result) {}

    static Outcome appraise(Path file, FileDigester digester, Requirements req, Keyring keyring) throws LinuxException {
        Optional<byte[]> raw = Xattr.get(file, Xattr.SECURITY_IMA);
        AppraisalResult r = Appraiser.appraise(raw.map(ImaXattr::decode), algo -> digester.digest(algo, file), req,
                keyring);
        return new Outcome(raw, r);
    }

    /**
     * {@code FAIL NOLABEL (op=appraise_data cause=missing-hash)}: the kernel's words for a failure. The
     * status is left out where it is the plain {@code INTEGRITY_FAIL}, which would only repeat FAIL.
     */
    static String verdict(AppraisalResult r) {
        if (r.passed()) {
            return "OK";
        }
        String status = r.status() == IntegrityStatus.FAIL ? "" : r.status() + " ";
        return "FAIL " + status + "(op=" + r.op().orElse("") + " cause=" + r.causeText().orElse("") + ")";
    }
}
