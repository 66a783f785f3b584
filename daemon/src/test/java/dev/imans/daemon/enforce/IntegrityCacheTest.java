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
}
