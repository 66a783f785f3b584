package dev.imans.appraise;

import dev.imans.crypto.DigestSignature;
import dev.imans.crypto.HashAlgo;
import dev.imans.crypto.Hex;
import dev.imans.crypto.Keyring;
import dev.imans.crypto.VerificationKey;
import dev.imans.xattr.AuditCause;
import dev.imans.xattr.ImaXattr;
import dev.imans.xattr.SignatureHeader;
import dev.imans.xattr.XattrType;
import java.io.IOException;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The appraisal decision as a pure function of its inputs, following
 * {@code ima_appraise_measurement} and {@code xattr_verify} (security/integrity/ima/ima_appraise.c)
 * and the {@code appraise_algos} check of {@code process_measurement} (ima_main.c) byte for byte.
 * EVM is not evaluated (the kernel's {@code evm_verifyxattr} answers INTEGRITY_UNKNOWN without an
 * EVM key, which lets appraisal go on exactly as here).
 *
 * <p>It never throws: unreadable files and algorithms this JDK lacks become {@code collect_data}
 * failures, as the kernel's hash errors do.
 */
public final class Appraiser {
    private Appraiser() {}

    /**
     * Appraises a file. {@code xattr} is the decoded {@code security.ima}, empty when the file has
     * none. The result includes the {@code appraise_algos} check.
     */
    public static AppraisalResult appraise(Optional<ImaXattr> xattr, FileDigests digests, Requirements req,
            Keyring keyring) {
        AppraisalResult r = verifyXattr(xattr, digests, req, keyring);
        return r.passed() ? checkAllowedAlgo(r, req) : r;
    }

    /** The {@code appraise_algos=} check, applied by the kernel only after appraisal passed (fix mode included). */
    static AppraisalResult checkAllowedAlgo(AppraisalResult r, Requirements req) {
        if (req.allows(r.algo())) {
            return r;
        }
        return AppraisalResult.fail(IntegrityStatus.FAIL, AuditCause.DENIED_HASH_ALGORITHM, r.algo(),
                r.digest().orElse(null), r.xattr(), "the value matches, but its algorithm " + r.algo()
                        + " is not in the rule's appraise_algos " + req.allowedAlgos());
    }

    /** Everything but the {@code appraise_algos} check: what fix mode may then repair. */
    static AppraisalResult verifyXattr(Optional<ImaXattr> xattr, FileDigests digests, Requirements req,
            Keyring keyring) {
        byte[] raw = xattr.map(ImaXattr::encode).orElse(new byte[0]);
        if (raw.length == 0) {
            AuditCause cause = req.signatureRequired() ? AuditCause.IMA_SIGNATURE_REQUIRED : AuditCause.MISSING_HASH;
            return AppraisalResult.fail(IntegrityStatus.NOLABEL, cause, req.defaultAlgo(), null, xattr,
                    xattr.isEmpty() ? "the file has no security.ima" : "security.ima is empty, which the kernel"
                            + " treats as no label");
        }
        HashAlgo algo = ImaXattr.kernelHashAlgo(raw, req.defaultAlgo());
        int type = raw[0] & 0xff;
        if (type == XattrType.IMA_XATTR_DIGEST.id() || type == XattrType.IMA_XATTR_DIGEST_NG.id()) {
            return verifyDigest(xattr, raw, algo, digests, req);
        }
        if (type == XattrType.EVM_IMA_XATTR_DIGSIG.id()) {
            return verifySignature(xattr, raw, algo, digests, keyring);
        }
        if (type == XattrType.IMA_VERITY_DIGSIG.id()) {
            return verifyVerity(xattr, raw, algo, req);
        }
        String what = XattrType.byId(type).map(t -> "type " + t.describe() + " does not belong in security.ima")
                .orElse(String.format("type byte 0x%02x is not one the kernel knows", type));
        return AppraisalResult.fail(IntegrityStatus.UNKNOWN, AuditCause.UNKNOWN_IMA_DATA, algo, null, xattr, what);
    }

    private static AppraisalResult verifyDigest(Optional<ImaXattr> xattr, byte[] raw, HashAlgo algo,
            FileDigests digests, Requirements req) {
        if (req.signatureRequired()) {
            return AppraisalResult.fail(IntegrityStatus.FAIL, AuditCause.IMA_SIGNATURE_REQUIRED, algo, null, xattr,
                    "the rule requires a signature (appraise_type=imasig), the file carries only a hash");
        }
        Digest d = collect(digests, algo);
        if (d.failure != null) {
            return d.failure(xattr);
        }
        int start = raw[0] == XattrType.IMA_XATTR_DIGEST_NG.id() ? 2 : 1;
        int available = raw.length - start;
        byte[] actual = d.digest;
        if (available < actual.length) {
            return AppraisalResult.fail(IntegrityStatus.FAIL, AuditCause.INVALID_HASH, algo, actual, xattr,
                    "the value is too short for a " + algo + " digest: " + Math.max(available, 0) + " of "
                            + actual.length + " bytes" + explain(xattr));
        }
        if (!MessageDigest.isEqual(Arrays.copyOfRange(raw, start, start + actual.length), actual)) {
            return AppraisalResult.fail(IntegrityStatus.FAIL, AuditCause.INVALID_HASH, algo, actual, xattr,
                    "the file's " + algo + " digest " + Hex.of(actual) + " differs from the stored "
                            + Hex.of(Arrays.copyOfRange(raw, start, start + actual.length))
                            + explain(xattr));
        }
        return AppraisalResult.pass(algo, actual, xattr, "the file's " + algo + " digest matches the stored hash"
                + explain(xattr));
    }

    private static AppraisalResult verifySignature(Optional<ImaXattr> xattr, byte[] raw, HashAlgo algo,
            FileDigests digests, Keyring keyring) {
        // Decoded again from the bytes so a hand-built record cannot disagree with them.
        ImaXattr decoded = ImaXattr.decode(raw);
        if (!(decoded instanceof ImaXattr.SignatureV2 sig)) {
            ImaXattr.Malformed m = (ImaXattr.Malformed) decoded;
            IntegrityStatus status = m.cause() == AuditCause.UNKNOWN ? IntegrityStatus.UNKNOWN : IntegrityStatus.FAIL;
            return AppraisalResult.fail(status, m.cause(), algo, null, xattr, m.reason());
        }
        Digest d = collect(digests, algo);
        if (d.failure != null) {
            return d.failure(xattr);
        }
        List<VerificationKey> keys = keyring.find(sig.keyId());
        if (keys.isEmpty()) {
            return AppraisalResult.fail(IntegrityStatus.FAIL, AuditCause.INVALID_SIGNATURE, algo, d.digest, xattr,
                    "no key with id " + sig.keyId().hex() + " in the keyring"
                            + (keyring.isEmpty() ? " (the keyring is empty)" : ""));
        }
        for (VerificationKey k : keys) {
            if (DigestSignature.verify(k.publicKey(), algo, d.digest, sig.signature())) {
                return AppraisalResult.pass(algo, d.digest, xattr, algo + " signature verified with key "
                        + sig.keyId().hex() + " (" + k.source() + ")");
            }
        }
        return AppraisalResult.fail(IntegrityStatus.FAIL, AuditCause.INVALID_SIGNATURE, algo, d.digest, xattr,
                "the signature does not verify with key " + sig.keyId().hex() + " over the file's " + algo
                        + " digest " + Hex.of(d.digest) + " (file changed, or signed by another key)");
    }

    private static AppraisalResult verifyVerity(Optional<ImaXattr> xattr, byte[] raw, HashAlgo algo, Requirements req) {
        if (req.signatureRequired()) {
            // imasig without digest_type=verity: a verity signature does not count (xattr_verify).
            return AppraisalResult.fail(IntegrityStatus.FAIL, AuditCause.IMA_SIGNATURE_REQUIRED, algo, null, xattr,
                    "the rule requires a regular IMA signature; a fs-verity signature needs digest_type=verity");
        }
        if (raw.length < 2 || (raw[SignatureHeader.OFF_VERSION] & 0xff) != SignatureHeader.VERSION_3) {
            return AppraisalResult.fail(IntegrityStatus.FAIL, AuditCause.INVALID_SIGNATURE_VERSION, algo, null, xattr,
                    "a type 0x06 value must carry a version 3 signature");
        }
        return AppraisalResult.fail(IntegrityStatus.FAIL, AuditCause.NO_VERITY_DIGEST, algo, null, xattr,
                "fs-verity signatures (type 0x06) sign the file's fs-verity digest, which imans does not read;"
                        + " this value cannot be verified here");
    }

    private static String explain(Optional<ImaXattr> xattr) {
        return xattr.map(x -> ImaXattr.decode(x.encode())).orElse(null) instanceof ImaXattr.Malformed m
                ? " (" + m.reason() + ")" : "";
    }

    /** A digest or the failure to get one, as {@code ima_collect_measurement} reports it. */
    private record Digest(byte[] digest, HashAlgo algo, String failure) {
        AppraisalResult failure(Optional<ImaXattr> xattr) {
            return AppraisalResult.fail(IntegrityStatus.FAIL, AuditCause.COLLECT_FAILED, algo, null, xattr, failure);
        }
    }

    private static Digest collect(FileDigests digests, HashAlgo algo) {
        try {
            byte[] d = digests.digest(algo);
            if (d == null || d.length != algo.digestSize()) {
                return new Digest(null, algo, "the " + algo + " digest source returned "
                        + (d == null ? "nothing" : d.length + " bytes instead of " + algo.digestSize()));
            }
            return new Digest(d, algo, null);
        } catch (HashAlgo.UnsupportedHashException e) {
            return new Digest(null, algo, e.getMessage());
        } catch (IOException e) {
            return new Digest(null, algo, "cannot read the file to hash it: " + e.getMessage());
        } catch (RuntimeException e) {
            return new Digest(null, algo, "hashing with " + algo + " failed: " + e);
        }
    }
}
