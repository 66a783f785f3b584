package dev.imans.daemon.enforce;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imans.appraise.AppraisalResult;
import dev.imans.appraise.IntegrityStatus;
import dev.imans.appraise.Requirements;
import dev.imans.crypto.HashAlgo;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The cache never files a result about content that a write replaced while it was computed. */
class IntegrityCacheTest {
    private static final FileKey KEY = new FileKey(42, 7);
    private static final FileStamp STAMP = new FileStamp(5, 100, 0, 100, 0);
    private static final Requirements REQ = Requirements.hashOrSignature(HashAlgo.SHA256);
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
}
