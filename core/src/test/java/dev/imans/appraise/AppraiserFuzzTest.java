package dev.imans.appraise;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.imans.crypto.FileDigester;
import dev.imans.crypto.Fixtures;
import dev.imans.crypto.HashAlgo;
import dev.imans.crypto.Keyring;
import dev.imans.xattr.ImaXattr;
import java.util.List;
import java.util.Optional;

/** Fuzzed {@code security.ima} bytes through the whole decision: always a verdict, never an exception. */
class AppraiserFuzzTest {
    private static final Keyring RING = Keyring.of(List.of(Fixtures.verificationKey("rsa-cert.der"),
            Fixtures.verificationKey("ec-cert.der")));

    @FuzzTest(maxDuration = "30s")
    void decide(FuzzedDataProvider data) {
        AppraiseMode mode = data.pickValue(AppraiseMode.values());
        boolean sigRequired = data.consumeBoolean();
        HashAlgo def = data.pickValue(new HashAlgo[] {HashAlgo.SHA256, HashAlgo.SHA1, HashAlgo.SHA512});
        byte[] content = data.consumeBytes(64);
        byte[] xattr = data.consumeRemainingAsBytes();
        Decision d = Decision.decide(mode, Optional.of(ImaXattr.decode(xattr)),
                algo -> FileDigester.digest(algo, content), new Requirements(sigRequired, java.util.Set.of(), def), RING);
        assertThat(d).isNotNull();
        d.result().ifPresent(r -> {
            assertThat(r.reason()).isNotBlank();
            assertThat(r.passed() || r.cause().isPresent()).isTrue();
        });
        assertThat(d.allow() || mode == AppraiseMode.ENFORCE).isTrue();
    }
}
