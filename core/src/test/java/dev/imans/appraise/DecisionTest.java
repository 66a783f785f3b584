package dev.imans.appraise;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imans.crypto.FileDigester;
import dev.imans.crypto.Fixtures;
import dev.imans.crypto.HashAlgo;
import dev.imans.crypto.Hex;
import dev.imans.crypto.Keyring;
import dev.imans.xattr.AuditCause;
import dev.imans.xattr.ImaXattr;
import java.util.EnumSet;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The modes as the seed-flow captures show them (enforce.txt, log.txt, fix.txt, off.txt). */
class DecisionTest {
    static final Requirements HASH = Requirements.hashOrSignature(HashAlgo.SHA256);
    static final FileDigests HELLO = algo -> FileDigester.digest(algo, Fixtures.hello());

    static Optional<ImaXattr> x(String hex) {
        return Optional.of(ImaXattr.decode(Hex.parse(hex)));
    }

    static Decision decide(AppraiseMode mode, Optional<ImaXattr> xattr) {
        return Decision.decide(mode, xattr, HELLO, HASH, Keyring.empty());
    }

    @Test
    void enforceDeniesAndAudits() {
        Decision d = decide(AppraiseMode.ENFORCE, x("04" + Fixtures.HELLO_SHA256));
        assertThat(d.allow()).isFalse();
        assertThat(d.auditCauses()).containsExactly(AuditCause.INVALID_HASH);
        assertThat(d.fixedXattr()).isEmpty();
        assertThat(decide(AppraiseMode.ENFORCE, x("0404" + Fixtures.HELLO_SHA256)).allow()).isTrue();
        assertThat(decide(AppraiseMode.ENFORCE, x("0404" + Fixtures.HELLO_SHA256)).audits()).isEmpty();
    }

    @Test
    void logAllowsAndAudits() {
        Decision d = decide(AppraiseMode.LOG, Optional.empty());
        assertThat(d.allow()).isTrue();
        assertThat(d.auditCauses()).containsExactly(AuditCause.MISSING_HASH);
        assertThat(d.result()).hasValueSatisfying(r -> assertThat(r.passed()).isFalse());
    }

    @Test
    void fixRewritesTheSeedsLabelAsTheKernelDid() {
        // fix.txt: foo-noalgo and nolabel end up as 0x0404<sha256>, after an invalid-hash / missing-hash audit.
        for (Optional<ImaXattr> before : java.util.List.of(x("04" + Fixtures.HELLO_SHA256), Optional.<ImaXattr>empty(), x("04"))) {
            Decision d = decide(AppraiseMode.FIX, before);
            assertThat(d.allow()).isTrue();
            assertThat(d.audits()).hasSize(1);
            assertThat(d.fixedXattr()).hasValueSatisfying(v ->
                    assertThat(Hex.of(v.encode())).isEqualTo("0404" + Fixtures.HELLO_SHA256));
            assertThat(d.result()).hasValueSatisfying(r -> assertThat(r.passed()).isTrue());
        }
    }

    @Test
    void fixKeepsTheValuesAlgorithm() {
        Decision d = decide(AppraiseMode.FIX, x("01" + "11".repeat(20)));
        assertThat(d.fixedXattr()).hasValueSatisfying(v -> assertThat(Hex.of(v.encode())).isEqualTo("01" + Fixtures.HELLO_SHA1));
    }

    @Test
    void fixNeverReplacesASignature() {
        Decision d = decide(AppraiseMode.FIX, x(Fixtures.text("evmctl-rsa-sha256.hex").substring(2)));
        assertThat(d.fixedXattr()).isEmpty();
        assertThat(d.auditCauses()).containsExactly(AuditCause.INVALID_SIGNATURE);
        assertThat(d.allow()).as("fix mode never denies").isTrue();
        assertThat(FixMode.mayReplace(x("060304aabbccdd000101"))).isTrue();
        assertThat(FixMode.mayReplace(x("03"))).isFalse();
    }

    @Test
    void offAppraisesNothing() {
        Decision d = Decision.decide(AppraiseMode.OFF, x("04"), algo -> {
            throw new AssertionError("off mode must not hash");
        }, HASH, Keyring.empty());
        assertThat(d.allow()).isTrue();
        assertThat(d.result()).isEmpty();
        assertThat(d.audits()).isEmpty();
    }

    @Test
    void deniedAlgorithmAfterAFixIsStillDenied() {
        Requirements r = new Requirements(false, EnumSet.of(HashAlgo.SHA512), HashAlgo.SHA256);
        Decision d = Decision.decide(AppraiseMode.ENFORCE, x("0404" + Fixtures.HELLO_SHA256), HELLO, r, Keyring.empty());
        assertThat(d.allow()).isFalse();
        assertThat(d.auditCauses()).containsExactly(AuditCause.DENIED_HASH_ALGORITHM);
    }

    @Test
    void modesParseByPrefixLikeTheKernel() {
        assertThat(AppraiseMode.parse("enforce_ns")).hasValue(AppraiseMode.ENFORCE);
        assertThat(AppraiseMode.parse("fix")).hasValue(AppraiseMode.FIX);
        assertThat(AppraiseMode.parse("bogus")).isEmpty();
    }
}
