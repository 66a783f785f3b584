package dev.imans.appraise;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imans.crypto.DigestSignature;
import dev.imans.crypto.FileDigester;
import dev.imans.crypto.Fixtures;
import dev.imans.crypto.HashAlgo;
import dev.imans.crypto.Hex;
import dev.imans.crypto.Keyring;
import dev.imans.policy.KernelProfile;
import dev.imans.xattr.AuditCause;
import dev.imans.xattr.ImaXattr;
import java.io.IOException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The kernel's answers from spec/kernel-captures/seed-flow (Debian 6.1, ima_hash=sha256, file
 * content "hello\n") replayed through the pure appraisal.
 */
class AppraiserTest {
    static final Requirements HASH = Requirements.hashOrSignature(HashAlgo.SHA256);
    final List<HashAlgo> hashed = new ArrayList<>();
    final FileDigests hello = algo -> {
        hashed.add(algo);
        return FileDigester.digest(algo, Fixtures.hello());
    };

    static Optional<ImaXattr> x(String hex) {
        return Optional.of(ImaXattr.decode(Hex.parse(hex)));
    }

    AppraisalResult appraise(Optional<ImaXattr> xattr) {
        return Appraiser.appraise(xattr, hello, HASH, Keyring.empty());
    }

    @Test
    void seedFlowFooPasses() {
        AppraisalResult r = appraise(x("0404" + Fixtures.HELLO_SHA256));
        assertThat(r.status()).isEqualTo(IntegrityStatus.PASS);
        assertThat(r.cause()).isEmpty();
        assertThat(r.algo()).isEqualTo(HashAlgo.SHA256);
        assertThat(r.digest()).hasValueSatisfying(d -> assertThat(Hex.of(d)).isEqualTo(Fixtures.HELLO_SHA256));
        assertThat(hashed).containsExactly(HashAlgo.SHA256);
    }

    @Test
    void seedFlowNoAlgoIsInvalidHash() {
        AppraisalResult r = appraise(x("04" + Fixtures.HELLO_SHA256));
        assertThat(r.status()).isEqualTo(IntegrityStatus.FAIL);
        assertThat(r.op()).hasValue("appraise_data");
        assertThat(r.causeText()).hasValue("invalid-hash");
        assertThat(r.reason()).contains("31 of 32 bytes").contains("without the algorithm byte");
    }

    @Test
    void seedFlowSha1FormPassesWithTheSha1Digest() {
        AppraisalResult r = appraise(x("01" + Fixtures.HELLO_SHA1));
        assertThat(r.passed()).isTrue();
        assertThat(hashed).containsExactly(HashAlgo.SHA1);
    }

    @Test
    void seedFlowLiteralTypeByteAloneIsInvalidHash() {
        assertThat(appraise(x("04")).causeText()).hasValue("invalid-hash");
    }

    @Test
    void seedFlowTamperedAndMissing() {
        FileDigests foo = algo -> FileDigester.digest(algo, "foo\n".getBytes());
        AppraisalResult tampered = Appraiser.appraise(x("0404" + Fixtures.HELLO_SHA256), foo, HASH, Keyring.empty());
        assertThat(tampered.causeText()).hasValue("invalid-hash");
        assertThat(tampered.reason()).contains("differs from the stored " + Fixtures.HELLO_SHA256);
        AppraisalResult missing = appraise(Optional.empty());
        assertThat(missing.status()).isEqualTo(IntegrityStatus.NOLABEL);
        assertThat(missing.causeText()).hasValue("missing-hash");
        assertThat(hashed).isEmpty();
        assertThat(appraise(Optional.of(ImaXattr.decode(new byte[0]))).status()).isEqualTo(IntegrityStatus.NOLABEL);
    }

    @Test
    void kernelQuirksFollowedByteForByte() {
        // Trailing bytes are ignored; an unknown algorithm byte falls back to ima_hash.
        assertThat(appraise(x("0404" + Fixtures.HELLO_SHA256 + "ffff")).passed()).isTrue();
        assertThat(appraise(x("04ee" + Fixtures.HELLO_SHA256)).passed()).isTrue();
        // 0x01 with a sha256-sized digest is read with the default algorithm.
        assertThat(appraise(x("01" + Fixtures.HELLO_SHA256)).passed()).isTrue();
        assertThat(appraise(x("01" + Fixtures.HELLO_MD5)).passed()).isTrue();
        assertThat(appraise(x("01" + Fixtures.HELLO_MD5 + "00000000")).passed()).isTrue();
    }

    @Test
    void signatureRequiredRejectsHashesAndMissingLabels() {
        Requirements sig = Requirements.signature(HashAlgo.SHA256);
        AppraisalResult hash = Appraiser.appraise(x("0404" + Fixtures.HELLO_SHA256), hello, sig, Keyring.empty());
        assertThat(hash.causeText()).hasValue("IMA-signature-required");
        assertThat(hash.status()).isEqualTo(IntegrityStatus.FAIL);
        AppraisalResult none = Appraiser.appraise(Optional.empty(), hello, sig, Keyring.empty());
        assertThat(none.causeText()).hasValue("IMA-signature-required");
        assertThat(none.status()).isEqualTo(IntegrityStatus.NOLABEL);
    }

    @Test
    void evmctlSignaturesVerifyAgainstTheKeyring() {
        Keyring ring = Keyring.of(List.of(Fixtures.verificationKey("rsa-cert.der"), Fixtures.verificationKey("ec-cert.pem")));
        Requirements sig = Requirements.signature(HashAlgo.SHA256);
        for (String f : List.of("evmctl-rsa-sha1.hex", "evmctl-rsa-sha256.hex", "evmctl-rsa-sha512.hex", "evmctl-ec-sha256.hex")) {
            AppraisalResult r = Appraiser.appraise(x(Fixtures.text(f).substring(2)), hello, sig, ring);
            assertThat(r.passed()).as(f + ": " + r.reason()).isTrue();
        }
        AppraisalResult noKey = Appraiser.appraise(x(Fixtures.text("evmctl-rsa-sha256.hex").substring(2)), hello, sig,
                Keyring.empty());
        assertThat(noKey.causeText()).hasValue("invalid-signature");
        assertThat(noKey.reason()).contains("no key with id " + Fixtures.RSA_KEYID);
        FileDigests changed = algo -> FileDigester.digest(algo, "changed\n".getBytes());
        AppraisalResult bad = Appraiser.appraise(x(Fixtures.text("evmctl-ec-sha256.hex").substring(2)), changed, sig, ring);
        assertThat(bad.causeText()).hasValue("invalid-signature");
    }

    @Test
    void ourSignaturesVerifyToo() throws Exception {
        var key = Fixtures.signingKey("rsa-pkcs8.pem");
        byte[] digest = FileDigester.digest(HashAlgo.SHA384, Fixtures.hello());
        ImaXattr sig = ImaXattr.SignatureV2.of(HashAlgo.SHA384, key.defaultKeyId(),
                DigestSignature.sign(key.privateKey(), HashAlgo.SHA384, digest));
        Keyring ring = Keyring.of(List.of(Fixtures.verificationKey("rsa-cert.pem")));
        assertThat(Appraiser.appraise(Optional.of(sig), hello, HASH, ring).passed()).isTrue();
        assertThat(hashed).containsExactly(HashAlgo.SHA384);
    }

    @Test
    void oddTypesAndVersions() {
        assertThat(appraise(x("07aa")).status()).isEqualTo(IntegrityStatus.UNKNOWN);
        assertThat(appraise(x("07aa")).causeText()).hasValue("unknown-ima-data");
        assertThat(appraise(x("02" + Fixtures.HELLO_SHA1)).causeText()).hasValue("unknown-ima-data");
        assertThat(appraise(x("050204aabbccdd000101")).causeText()).hasValue("unknown-ima-data");
        assertThat(appraise(x("030304aabbccdd000101")).causeText()).hasValue("invalid-signature-version");
        AppraisalResult v0 = appraise(x("030004aabbccdd000101"));
        assertThat(v0.status()).isEqualTo(IntegrityStatus.UNKNOWN);
        assertThat(v0.causeText()).hasValue("unknown");
        // Without digest_type=verity the kernel hashes the content and checks the v3 signature over it.
        assertThat(appraise(x("060304aabbccdd000101")).causeText()).hasValue("invalid-verity-signature");
        assertThat(appraise(x("060304aabbccdd000101")).op()).hasValue("appraise_data");
    }

    /** 6.1's enum hash_algo ends at streebog512 (19): the sha3 bytes 20..22 name no algorithm there. */
    @Test
    void anAlgorithmBytePastTheKernelsListFallsBackToImaHash() {
        String sha3 = Hex.of(FileDigester.digest(HashAlgo.SHA3_256, Fixtures.hello()));
        // ima_get_hash_algo falls back to ima_hash (sha256) and compares the bytes after byte 1 with it.
        AppraisalResult r = appraise(x("0414" + sha3));
        assertThat(r.causeText()).hasValue("invalid-hash");
        assertThat(r.algo()).isEqualTo(HashAlgo.SHA256);
        assertThat(appraise(x("0414" + Fixtures.HELLO_SHA256)).passed()).isTrue();
        assertThat(appraise(x("04ff" + Fixtures.HELLO_SHA256)).passed()).isTrue();
        // A kernel that knows sha3 reads the same label as sha3-256.
        assertThat(Appraiser.appraise(x("0414" + sha3), hello, HASH, Keyring.empty(), KernelProfile.recent()).passed())
                .isTrue();
    }

    @Test
    void aSignatureWithAnAlgorithmPastTheKernelsListIsInvalid() throws Exception {
        var key = Fixtures.signingKey("rsa-pkcs8.pem");
        Keyring ring = Keyring.of(List.of(Fixtures.verificationKey("rsa-cert.pem")));
        byte[] digest = FileDigester.digest(HashAlgo.SHA3_256, Fixtures.hello());
        ImaXattr sig = ImaXattr.SignatureV2.of(HashAlgo.SHA3_256, key.defaultKeyId(),
                DigestSignature.sign(key.privateKey(), HashAlgo.SHA3_256, digest));
        // asymmetric_verify: hash_algo >= HASH_ALGO__LAST is -ENOPKG; the file was hashed with ima_hash.
        AppraisalResult r = Appraiser.appraise(Optional.of(sig), hello, HASH, ring);
        assertThat(r.causeText()).hasValue("invalid-signature");
        assertThat(r.algo()).isEqualTo(HashAlgo.SHA256);
        assertThat(Appraiser.appraise(Optional.of(sig), hello, HASH, ring, KernelProfile.recent()).passed()).isTrue();
    }

    /** ima_collect_measurement runs before any look at the value: an algorithm it cannot load ends there. */
    @Test
    void algorithmsTheKernelCannotLoadAreCollectFailuresBeforeAnythingElse() {
        // rmd128 (8) left the kernel's crypto in 5.11: ima_alloc_tfm fails, the open is a collect_data failure.
        AppraisalResult rmd128 = appraise(x("0408" + "00".repeat(16)));
        assertThat(rmd128.op()).hasValue("collect_data");
        assertThat(rmd128.causeText()).hasValue("failed");
        assertThat(rmd128.reason()).contains("rmd128").contains("kernel");
        // Even where the rule wants a signature: the kernel never reaches that check.
        Requirements imasig = Requirements.signature(HashAlgo.SHA256);
        assertThat(Appraiser.appraise(x("0408" + "00".repeat(16)), hello, imasig, Keyring.empty()).causeText())
                .hasValue("failed");
        assertThat(Appraiser.appraise(x("0404" + Fixtures.HELLO_SHA256), hello, imasig, Keyring.empty()).causeText())
                .hasValue("IMA-signature-required");
        // wp256 the kernel computes; this JDK cannot: a documented difference, said in the reason.
        AppraisalResult wp256 = appraise(x("040b" + "00".repeat(32)));
        assertThat(wp256.causeText()).hasValue("failed");
        assertThat(wp256.reason()).contains("wp256").contains("JDK");
        // Only the sha256 label was hashed: nothing is read with an algorithm that cannot be had.
        assertThat(hashed).containsExactly(HashAlgo.SHA256);
    }

    /** An unreadable file fails collection before the value is judged, whatever the value is. */
    @Test
    void anUnreadableFileIsACollectFailureBeforeTheValuesOwnVerdict() {
        FileDigests broken = algo -> {
            throw new IOException("EIO");
        };
        Requirements imasig = Requirements.signature(HashAlgo.SHA256);
        for (String value : List.of("0404" + Fixtures.HELLO_SHA256, "07aa", "030304aabbccdd000101", "060204aabbccdd")) {
            AppraisalResult r = Appraiser.appraise(x(value), broken, imasig, Keyring.empty());
            assertThat(r.op()).as(value).hasValue("collect_data");
            assertThat(r.causeText()).as(value).hasValue("failed");
        }
        // No label: imans does not read the file to be refused (the kernel would, and an I/O error
        // there would be a collect_data failure instead).
        assertThat(Appraiser.appraise(Optional.empty(), broken, imasig, Keyring.empty()).causeText())
                .hasValue("IMA-signature-required");
    }

    /** rmd160 is in 6.1's crypto, so its labels are compared as the kernel compares them. */
    @Test
    void rmd160LabelsAreCompared() {
        // As evmctl ima_hash -a rmd160 writes it for "hello\n".
        AppraisalResult r = appraise(x("04030057b0dc5aac7c215a9a458d6c3c85cd21089af8"));
        assertThat(r.passed()).isTrue();
        assertThat(r.algo()).isEqualTo(HashAlgo.RMD160);
        assertThat(appraise(x("0403" + "00".repeat(20))).causeText()).hasValue("invalid-hash");
        assertThat(hashed).containsExactly(HashAlgo.RMD160, HashAlgo.RMD160);
    }

    /**
     * A version 3 (0x06) signature under a rule without digest_type=verity: the kernel verifies it over
     * the hash of ima_file_id {0x06, algo, content digest} (calc_file_id_hash).
     */
    @Test
    void verityValuesAreCheckedOverTheFileIdOfTheContentDigest() throws Exception {
        var key = Fixtures.signingKey("rsa-pkcs8.pem");
        Keyring ring = Keyring.of(List.of(Fixtures.verificationKey("rsa-cert.pem")));
        byte[] content = FileDigester.digest(HashAlgo.SHA256, Fixtures.hello());
        byte[] fileId = new byte[2 + content.length];
        fileId[0] = 0x06;
        fileId[1] = (byte) HashAlgo.SHA256.id();
        System.arraycopy(content, 0, fileId, 2, content.length);
        byte[] signed = FileDigester.digest(HashAlgo.SHA256, fileId);
        ImaXattr good = new ImaXattr.VeritySignature(HashAlgo.SHA256, key.defaultKeyId(),
                DigestSignature.sign(key.privateKey(), HashAlgo.SHA256, signed));
        assertThat(Appraiser.appraise(Optional.of(good), hello, HASH, ring).passed()).isTrue();
        // Signed over the plain digest (as a v2 signature would be): not the file id, so invalid.
        ImaXattr plain = new ImaXattr.VeritySignature(HashAlgo.SHA256, key.defaultKeyId(),
                DigestSignature.sign(key.privateKey(), HashAlgo.SHA256, content));
        AppraisalResult r = Appraiser.appraise(Optional.of(plain), hello, HASH, ring);
        assertThat(r.op()).hasValue("appraise_data");
        assertThat(r.causeText()).hasValue("invalid-verity-signature");
        assertThat(Appraiser.appraise(Optional.of(good), hello, HASH, Keyring.empty()).causeText())
                .hasValue("invalid-verity-signature");
        assertThat(Appraiser.appraise(Optional.of(good), hello, Requirements.signature(HashAlgo.SHA256), ring)
                .causeText()).hasValue("IMA-signature-required");
    }

    @Test
    void appraiseAlgosDeniesAfterAPass() {
        Requirements onlySha512 = new Requirements(false, EnumSet.of(HashAlgo.SHA512), HashAlgo.SHA256);
        AppraisalResult r = Appraiser.appraise(x("01" + Fixtures.HELLO_SHA1), hello, onlySha512, Keyring.empty());
        assertThat(r.op()).hasValue("collect_data");
        assertThat(r.causeText()).hasValue("denied-hash-algorithm");
        assertThat(r.reason()).contains("sha1");
        Requirements sha1 = new Requirements(false, Set.of(HashAlgo.SHA1), HashAlgo.SHA256);
        assertThat(Appraiser.appraise(x("01" + Fixtures.HELLO_SHA1), hello, sha1, Keyring.empty()).passed()).isTrue();
    }

    @Test
    void unreadableFilesAndUnsupportedAlgorithmsAreCollectFailures() {
        FileDigests broken = algo -> {
            throw new IOException("EIO");
        };
        AppraisalResult r = Appraiser.appraise(x("0404" + Fixtures.HELLO_SHA256), broken, HASH, Keyring.empty());
        assertThat(r.op()).hasValue("collect_data");
        assertThat(r.causeText()).hasValue("failed");
        assertThat(r.reason()).contains("EIO");
        AppraisalResult sm3 = appraise(x("0411" + "00".repeat(32)));
        assertThat(sm3.causeText()).hasValue("failed");
        assertThat(sm3.reason()).contains("sm3");
    }
}
