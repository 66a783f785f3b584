package dev.imans.daemon.enforce;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imans.appraise.AppraisalResult;
import dev.imans.appraise.IntegrityStatus;
import dev.imans.appraise.Requirements;
import dev.imans.crypto.HashAlgo;
import dev.imans.crypto.KeyId;
import dev.imans.crypto.Keyring;
import dev.imans.crypto.VerificationKey;
import java.security.KeyPairGenerator;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The cache never files a result about content that a write replaced while it was computed. */
class IntegrityCacheTest {
    private static final FileKey KEY = new FileKey(42, 7);
    private static final FileStamp STAMP = new FileStamp(5, 100, 0, 100, 0);
    private static final AppraisalKey REQ = new AppraisalKey(Requirements.hashOrSignature(HashAlgo.SHA256),
            Keyring.empty());
    private static final AppraisalResult PASS = new AppraisalResult(IntegrityStatus.PASS, Optional.empty(),
            HashAlgo.SHA256, Optional.empty(), Optional.empty(), "test");

    @Test
    void aPassingResultSharesOneDigestArrayWithItsLabelAndTheDigestSlot(@org.junit.jupiter.api.io.TempDir
            java.nio.file.Path dir) throws Exception {
        IntegrityCache cache = new IntegrityCache();
        java.nio.file.Path f = java.nio.file.Files.writeString(dir.resolve("f"), "hello\n");
        byte[] digest;
        try (dev.imans.linux.Fd fd = dev.imans.linux.Fd.open(f, dev.imans.linux.Fd.O_RDONLY)) {
            IntegrityCache.Token t = cache.token(KEY);
            digest = cache.digests(KEY, STAMP, fd.value()).digest(HashAlgo.SHA256);
            AppraisalResult pass = new AppraisalResult(IntegrityStatus.PASS, Optional.empty(), HashAlgo.SHA256,
                    Optional.of(digest.clone()), Optional.of(new dev.imans.xattr.ImaXattr.DigestNg(HashAlgo.SHA256,
                            digest.clone())), "test");
            cache.put(KEY, STAMP, REQ, pass, t);
            AppraisalKey other = new AppraisalKey(Requirements.hashOrSignature(HashAlgo.SHA512), Keyring.empty());
            cache.put(KEY, STAMP, other, PASS, cache.token(KEY));
            AppraisalResult got = cache.get(KEY, STAMP, REQ).orElseThrow();
            var label = (dev.imans.xattr.ImaXattr.DigestNg) got.xattr().orElseThrow();
            assertThat(got.digest().orElseThrow()).isEqualTo(digest).isSameAs(label.digest());
            assertThat(got.status()).isEqualTo(IntegrityStatus.PASS);
            assertThat(cache.get(KEY, STAMP, other)).contains(PASS);
            // The digest slot still answers with a copy of its own.
            assertThat(cache.digests(KEY, STAMP, fd.value()).digest(HashAlgo.SHA256)).isEqualTo(digest)
                    .isNotSameAs(got.digest().get());
        }
    }

    @Test
    void aPassKeptAsItsReasonComesBackWholeWhicheverOfResultAndDigestCameFirst(@org.junit.jupiter.api.io.TempDir
            java.nio.file.Path dir) throws Exception {
        java.nio.file.Path f = java.nio.file.Files.writeString(dir.resolve("f"), "hello\n");
        try (dev.imans.linux.Fd fd = dev.imans.linux.Fd.open(f, dev.imans.linux.Fd.O_RDONLY)) {
            byte[] digest = new IntegrityCache().digests(KEY, STAMP, fd.value()).digest(HashAlgo.SHA256);
            AppraisalResult pass = new AppraisalResult(IntegrityStatus.PASS, Optional.empty(), HashAlgo.SHA256,
                    Optional.of(digest.clone()), Optional.of(new dev.imans.xattr.ImaXattr.DigestNg(HashAlgo.SHA256,
                            digest.clone())), "the file's sha256 digest matches");
            for (boolean digestFirst : new boolean[] {true, false}) {
                IntegrityCache cache = new IntegrityCache();
                IntegrityCache.Token t = cache.token(KEY);
                if (digestFirst) {
                    cache.digests(KEY, STAMP, fd.value()).digest(HashAlgo.SHA256);
                }
                cache.put(KEY, STAMP, REQ, pass, t);
                if (!digestFirst) {
                    cache.digests(KEY, STAMP, fd.value()).digest(HashAlgo.SHA256);
                }
                AppraisalResult got = cache.get(KEY, STAMP, REQ).orElseThrow();
                assertThat(got.status()).isEqualTo(IntegrityStatus.PASS);
                assertThat(got.cause()).isEmpty();
                assertThat(got.algo()).isEqualTo(HashAlgo.SHA256);
                assertThat(got.reason()).isEqualTo(pass.reason());
                assertThat(got.digest().orElseThrow()).isEqualTo(digest);
                assertThat(got.xattr().orElseThrow()).isInstanceOf(dev.imans.xattr.ImaXattr.DigestNg.class);
                assertThat(((dev.imans.xattr.ImaXattr.DigestNg) got.xattr().get()).digest()).isEqualTo(digest);
                assertThat(got.signed()).isFalse();
                // Another file version's stamp misses.
                assertThat(cache.get(KEY, new FileStamp(5, 100, 0, 101, 0), REQ)).isEmpty();
            }
            // A pass on another label (here none) is kept as it is.
            IntegrityCache cache = new IntegrityCache();
            cache.digests(KEY, STAMP, fd.value()).digest(HashAlgo.SHA256);
            AppraisalResult unlabelled = new AppraisalResult(IntegrityStatus.PASS, Optional.empty(), HashAlgo.SHA256,
                    Optional.of(digest.clone()), Optional.empty(), "no rule needs a label");
            cache.put(KEY, STAMP, REQ, unlabelled, cache.token(KEY));
            assertThat(cache.get(KEY, STAMP, REQ).orElseThrow().xattr()).isEmpty();
            assertThat(cache.get(KEY, STAMP, REQ).orElseThrow().reason()).isEqualTo("no rule needs a label");
        }
    }

    @Test
    void forgettingAVersionKeepsANewerOne() {
        IntegrityCache cache = new IntegrityCache();
        FileStamp newer = new FileStamp(5, 100, 0, 101, 0);
        cache.put(KEY, newer, REQ, PASS, cache.token(KEY));
        cache.forgetVersion(KEY, STAMP);
        assertThat(cache.get(KEY, newer, REQ)).contains(PASS);
        cache.forgetVersion(KEY, newer);
        assertThat(cache.get(KEY, newer, REQ)).isEmpty();
    }

    @Test
    void aResultComputedAcrossAWriteIsNotStored() {
        IntegrityCache cache = new IntegrityCache();
        IntegrityCache.Token before = cache.token(KEY);
        cache.forget(KEY); // the watcher saw a write; with coarse timestamps the stamp did not move
        cache.put(KEY, STAMP, REQ, PASS, before);
        assertThat(cache.get(KEY, STAMP, REQ)).isEmpty();

        IntegrityCache.Token after = cache.token(KEY);
        cache.put(KEY, STAMP, REQ, PASS, after);
        assertThat(cache.get(KEY, STAMP, REQ)).contains(PASS);
    }

    @Test
    void otherFilesWritesDoNotCostThisOneItsEntry() {
        IntegrityCache cache = new IntegrityCache();
        IntegrityCache.Token t = cache.token(KEY);
        cache.forget(new FileKey(42, 8));
        cache.put(KEY, STAMP, REQ, PASS, t);
        assertThat(cache.get(KEY, STAMP, REQ)).contains(PASS);
    }

    @Test
    void aClearInvalidatesEveryTokenTakenBeforeIt() {
        IntegrityCache cache = new IntegrityCache();
        IntegrityCache.Token t = cache.token(KEY);
        cache.clear();
        cache.put(KEY, STAMP, REQ, PASS, t);
        assertThat(cache.get(KEY, STAMP, REQ)).isEmpty();
    }

    @Test
    void aResultHoldsOnlyForTheKeyringItWasComputedWith() throws Exception {
        var pair = KeyPairGenerator.getInstance("EC").generateKeyPair();
        VerificationKey k = new VerificationKey(pair.getPublic(), KeyId.ofPublicKey(pair.getPublic()), Optional.empty(),
                "test");
        AppraisalKey withKey = new AppraisalKey(REQ.requirements(), Keyring.of(List.of(k)));
        IntegrityCache cache = new IntegrityCache();
        cache.put(KEY, STAMP, REQ, PASS, cache.token(KEY));
        assertThat(cache.get(KEY, STAMP, withKey)).isEmpty();
        cache.put(KEY, STAMP, withKey, PASS, cache.token(KEY));
        // A keyring rebuilt with the same keys is the same keyring.
        AppraisalKey rebuilt = new AppraisalKey(REQ.requirements(), Keyring.empty().plus(Keyring.of(List.of(k))));
        assertThat(cache.get(KEY, STAMP, rebuilt)).contains(PASS);
    }

    /** An overlay handle as overlayfs encodes it: ovl_fh padding, ovl_fb header, the layer's UUID, the real handle. */
    private static dev.imans.linux.FileHandles.Handle overlayHandle(int uuidByte, int ino) {
        byte[] b = new byte[8 + 16 + 12];
        b[4] = (byte) 0xfb;
        b[5] = (byte) (b.length - 3);
        b[7] = 1;
        java.util.Arrays.fill(b, 8, 24, (byte) uuidByte);
        b[24] = (byte) ino;
        return new dev.imans.linux.FileHandles.Handle(dev.imans.linux.FileHandles.OVL_FILEID_V1, b);
    }

    @Test
    void anOverlayFileStartsFromAnotherOverlaysEntryForTheSameLayerFileAndStamp() {
        IntegrityCache cache = new IntegrityCache();
        FileKey first = new FileKey(45, 7);
        FileKey second = new FileKey(51, 7);
        assertThat(cache.shareOverlay(first, STAMP, overlayHandle(0x11, 7))).isFalse();
        cache.put(first, STAMP, REQ, PASS, cache.token(first));
        assertThat(cache.shareOverlay(second, STAMP, overlayHandle(0x11, 7))).isTrue();
        assertThat(cache.get(second, STAMP, REQ)).contains(PASS);
        // Another stamp is another version of the layer's file; another handle another file.
        FileKey third = new FileKey(57, 7);
        assertThat(cache.shareOverlay(third, new FileStamp(5, 100, 0, 101, 0), overlayHandle(0x11, 7))).isFalse();
        assertThat(cache.shareOverlay(new FileKey(58, 7), STAMP, overlayHandle(0x22, 7))).isFalse();
        assertThat(cache.shareOverlay(new FileKey(59, 8), STAMP, overlayHandle(0x11, 8))).isFalse();
    }

    /** A cache that has judged overlay file {@code first}, known by {@code handle}: passed. */
    private static IntegrityCache knowing(FileKey first, dev.imans.linux.FileHandles.Handle handle) {
        IntegrityCache cache = new IntegrityCache();
        cache.shareOverlay(first, STAMP, handle);
        cache.put(first, STAMP, REQ, PASS, cache.token(first));
        return cache;
    }

    @Test
    void overlayHandlesOfALayerWithoutUuidAreNotShared() {
        IntegrityCache cache = knowing(new FileKey(45, 7), overlayHandle(0, 7));
        // Two filesystems without a UUID may both have an inode 7 of generation 0: nothing tells them apart.
        assertThat(cache.shareOverlay(new FileKey(51, 7), STAMP, overlayHandle(0, 7))).isFalse();
        assertThat(cache.get(new FileKey(51, 7), STAMP, REQ)).isEmpty();
    }

    @Test
    void aForgottenOverlayFileIsNotShared() {
        FileKey first = new FileKey(45, 7);
        IntegrityCache cache = knowing(first, overlayHandle(0x11, 7));
        cache.forget(first);
        assertThat(cache.shareOverlay(new FileKey(51, 7), STAMP, overlayHandle(0x11, 7))).isFalse();
    }
}
