package dev.imans.appraise;

import dev.imans.crypto.DigestSignature;
import dev.imans.crypto.HashAlgo;
import dev.imans.crypto.Hex;
import dev.imans.crypto.Keyring;
import dev.imans.crypto.VerificationKey;
import dev.imans.policy.KernelProfile;
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
        return appraise(xattr, digests, req, keyring, KernelProfile.defaults());
    }

    /** As {@link #appraise(Optional, FileDigests, Requirements, Keyring)}, for the kernel {@code kernel} describes. */
    public static AppraisalResult appraise(Optional<ImaXattr> xattr, FileDigests digests, Requirements req,
            Keyring keyring, KernelProfile kernel) {
        AppraisalResult r = verifyXattr(xattr, digests, req, keyring, kernel);
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
        return verifyXattr(xattr, digests, req, keyring, KernelProfile.defaults());
    }

    static AppraisalResult verifyXattr(Optional<ImaXattr> xattr, FileDigests digests, Requirements req,
            Keyring keyring, KernelProfile kernel) {
        byte[] raw = xattr.map(ImaXattr::encode).orElse(new byte[0]);
        if (raw.length == 0) {
            AuditCause cause = req.signatureRequired() ? AuditCause.IMA_SIGNATURE_REQUIRED : AuditCause.MISSING_HASH;
            return AppraisalResult.fail(IntegrityStatus.NOLABEL, cause, req.defaultAlgo(), null, xattr,
                    xattr.isEmpty() ? "the file has no security.ima" : "security.ima is empty, which the kernel"
                            + " treats as no label");
        }
        HashAlgo algo = ImaXattr.kernelHashAlgo(raw, req.defaultAlgo(), kernel.hashAlgoNames());
        // process_measurement collects the digest before ima_appraise_measurement looks at the value:
        // an algorithm that cannot be hashed ends the appraisal as a collect_data failure, whatever the
        // rest of the value says (ima_collect_measurement in ima_api.c; ima_alloc_tfm fails).
        if (!kernel.hashAlgosAvailable().contains(algo)) {
            return AppraisalResult.fail(IntegrityStatus.FAIL, AuditCause.COLLECT_FAILED, algo, null, xattr,
                    "the value names " + algo + ", which the kernel's crypto no longer provides: the file cannot be"
                            + " hashed with it");
        }
        if (!algo.isSupported()) {
            return AppraisalResult.fail(IntegrityStatus.FAIL, AuditCause.COLLECT_FAILED, algo, null, xattr,
                    "the value names " + algo + ", which this JDK cannot compute (the kernel could, and would"
                            + " then compare the digest)");
        }
        // Likewise an unreadable file: collect_data, before the value's own verdict.
        Digest d = collect(digests, algo);
        if (d.failure != null) {
            return d.failure(xattr);
        }
        int type = raw[0] & 0xff;
        if (type == XattrType.IMA_XATTR_DIGEST.id() || type == XattrType.IMA_XATTR_DIGEST_NG.id()) {
            return verifyDigest(xattr, raw, algo, d.digest, req);
        }
        if (type == XattrType.EVM_IMA_XATTR_DIGSIG.id()) {
            return verifySignature(xattr, raw, algo, d.digest, keyring, kernel);
        }
        if (type == XattrType.IMA_VERITY_DIGSIG.id()) {
            return verifyVerity(xattr, raw, algo, d.digest, req, keyring, kernel);
        }
        String what = XattrType.byId(type).map(t -> "type " + t.describe() + " does not belong in security.ima")
                .orElse(String.format("type byte 0x%02x is not one the kernel knows", type));
        return AppraisalResult.fail(IntegrityStatus.UNKNOWN, AuditCause.UNKNOWN_IMA_DATA, algo, d.digest, xattr, what);
    }

    private static AppraisalResult verifyDigest(Optional<ImaXattr> xattr, byte[] raw, HashAlgo algo,
            byte[] actual, Requirements req) {
        if (req.signatureRequired()) {
            return AppraisalResult.fail(IntegrityStatus.FAIL, AuditCause.IMA_SIGNATURE_REQUIRED, algo, actual, xattr,
                    "the rule requires a signature (appraise_type=imasig), the file carries only a hash");
        }
        int start = raw[0] == XattrType.IMA_XATTR_DIGEST_NG.id() ? 2 : 1;
        int available = raw.length - start;
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
        String why = explain(xattr);
        return AppraisalResult.pass(algo, actual, xattr, why.isEmpty() ? MATCHES.get(algo)
                : "the file's " + algo + " digest matches the stored hash" + why);
    }

    /** The reason of a pass, one string per algorithm: a cache holds one result per file. */
    private static final java.util.Map<HashAlgo, String> MATCHES = matches();

    private static java.util.Map<HashAlgo, String> matches() {
        java.util.Map<HashAlgo, String> m = new java.util.EnumMap<>(HashAlgo.class);
        for (HashAlgo a : HashAlgo.values()) {
            m.put(a, "the file's " + a + " digest matches the stored hash");
        }
        return m;
    }

    private static AppraisalResult verifySignature(Optional<ImaXattr> xattr, byte[] raw, HashAlgo algo,
            byte[] digest, Keyring keyring, KernelProfile kernel) {
        Digest d = new Digest(digest, algo, null);
        // Decoded again from the bytes so a hand-built record cannot disagree with them.
        ImaXattr decoded = ImaXattr.decode(raw);
        if (!(decoded instanceof ImaXattr.SignatureV2 sig)) {
            ImaXattr.Malformed m = (ImaXattr.Malformed) decoded;
            IntegrityStatus status = m.cause() == AuditCause.UNKNOWN ? IntegrityStatus.UNKNOWN : IntegrityStatus.FAIL;
            return AppraisalResult.fail(status, m.cause(), algo, digest, xattr, m.reason());
        }
        if (!kernel.hashAlgoNames().contains(sig.algo())) {
            // asymmetric_verify: hash_algo >= HASH_ALGO__LAST is -ENOPKG (the digest was taken with ima_hash).
            return AppraisalResult.fail(IntegrityStatus.FAIL, AuditCause.INVALID_SIGNATURE, algo, d.digest, xattr,
                    "hash_algo " + sig.algo().id() + " (" + sig.algo() + ") is past this kernel's hash_algo list"
                            + " (-ENOPKG)");
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

    /**
     * A 0x06 value under a rule without {@code digest_type=verity} (the only kind imans enforces): the
     * kernel hashes the file's content as for any value, then verifies the version 3 signature over
     * the hash of {@code struct ima_file_id} {type 0x06, algo, that digest} (xattr_verify and
     * calc_file_id_hash, ima_appraise.c). Signed over the fs-verity digest, as fsverity-utils does, it
     * fails there with invalid-verity-signature.
     */
    private static AppraisalResult verifyVerity(Optional<ImaXattr> xattr, byte[] raw, HashAlgo algo,
            byte[] digest, Requirements req, Keyring keyring, KernelProfile kernel) {
        Digest d = new Digest(digest, algo, null);
        if (req.signatureRequired()) {
            // imasig without digest_type=verity: a verity signature does not count (xattr_verify).
            return AppraisalResult.fail(IntegrityStatus.FAIL, AuditCause.IMA_SIGNATURE_REQUIRED, algo, digest, xattr,
                    "the rule requires a regular IMA signature; a fs-verity signature needs digest_type=verity");
        }
        if (raw.length < 2 || (raw[SignatureHeader.OFF_VERSION] & 0xff) != SignatureHeader.VERSION_3) {
            return AppraisalResult.fail(IntegrityStatus.FAIL, AuditCause.INVALID_SIGNATURE_VERSION, algo, digest, xattr,
                    "a type 0x06 value must carry a version 3 signature");
        }
        ImaXattr decoded = ImaXattr.decode(raw);
        if (!(decoded instanceof ImaXattr.VeritySignature sig)) {
            return AppraisalResult.fail(IntegrityStatus.FAIL, AuditCause.INVALID_VERITY_SIGNATURE, algo, d.digest, xattr,
                    ((ImaXattr.Malformed) decoded).reason());
        }
        if (!kernel.hashAlgoNames().contains(sig.algo())) {
            return AppraisalResult.fail(IntegrityStatus.FAIL, AuditCause.INVALID_VERITY_SIGNATURE, algo, d.digest, xattr,
                    "hash_algo " + sig.algo().id() + " (" + sig.algo() + ") is past this kernel's hash_algo list"
                            + " (-ENOPKG)");
        }
        byte[] fileId = new byte[2 + d.digest.length];
        fileId[0] = (byte) XattrType.IMA_VERITY_DIGSIG.id();
        fileId[1] = (byte) algo.id();
        System.arraycopy(d.digest, 0, fileId, 2, d.digest.length);
        byte[] signed = algo.newDigest().digest(fileId);
        for (VerificationKey k : keyring.find(sig.keyId())) {
            if (DigestSignature.verify(k.publicKey(), sig.algo(), signed, sig.signature())) {
                return AppraisalResult.pass(algo, d.digest, xattr, "version 3 signature verified with key "
                        + sig.keyId().hex() + " (" + k.source() + ") over the file id of its " + algo + " digest");
            }
        }
        return AppraisalResult.fail(IntegrityStatus.FAIL, AuditCause.INVALID_VERITY_SIGNATURE, algo, d.digest, xattr,
                "the version 3 signature does not verify with key " + sig.keyId().hex() + " over the file id of its "
                        + algo + " content digest " + Hex.of(d.digest) + ": without digest_type=verity the kernel"
                        + " checks it over the content digest, not over the fs-verity digest fsverity-utils signs"
                        + (keyring.find(sig.keyId()).isEmpty() ? " (no key with that id in the keyring)" : ""));
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
