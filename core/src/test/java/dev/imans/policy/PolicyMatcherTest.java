package dev.imans.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imans.crypto.HashAlgo;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** {@code ima_match_policy} semantics: each condition, first match per action class, dont_* shadowing. */
class PolicyMatcherTest {
    private static final int READ = Mask.MAY_READ.bit();
    private static final int WRITE = Mask.MAY_WRITE.bit();
    private static final int EXEC = Mask.MAY_EXEC.bit();
    private static final long TMPFS = FsMagic.TMPFS_MAGIC.value();
    private static final UUID FS_UUID = UUID.fromString("6a2ec3e7-f8dc-4e9b-9d3c-e1d1f5b4f8a1");

    private static Policy policy(String text) {
        try {
            return PolicyParser.parse(text);
        } catch (PolicyException e) {
            throw new AssertionError(e.errors().toString(), e);
        }
    }

    private static boolean matches(String rule, AccessFacts f) {
        return PolicyMatcher.matches(policy(rule).rules().getFirst(), f);
    }

    private static AccessFacts open(int mask) {
        return AccessFacts.of(Func.FILE_CHECK, mask);
    }

    @Test
    void maskWithoutCaretMustEqualTheRequestedMask() {
        assertThat(matches("measure mask=MAY_READ", open(READ))).isTrue();
        assertThat(matches("measure mask=MAY_READ", open(READ | WRITE))).isFalse();
        assertThat(matches("measure mask=^MAY_READ", open(READ | WRITE))).isTrue();
        assertThat(matches("measure mask=^MAY_READ", open(WRITE))).isFalse();
    }

    @Test
    void funcMustEqualTheHookButPostSetattrBypassesFuncAndMask() {
        assertThat(matches("measure func=BPRM_CHECK", AccessFacts.of(Func.BPRM_CHECK, EXEC))).isTrue();
        assertThat(matches("measure func=BPRM_CHECK", open(EXEC))).isFalse();
        assertThat(matches("measure", AccessFacts.of(Func.MMAP_CHECK, EXEC))).isTrue();
        assertThat(matches("appraise func=BPRM_CHECK mask=MAY_EXEC", AccessFacts.of(Func.POST_SETATTR, 0))).isTrue();
    }

    @Test
    void filesystemConditions() {
        AccessFacts f = open(READ).withFilesystem(TMPFS, "tmpfs", FS_UUID);
        assertThat(matches("measure fsmagic=0x1021994", f)).isTrue();
        assertThat(matches("measure fsmagic=0x9fa0", f)).isFalse();
        assertThat(matches("measure fsname=tmpfs", f)).isTrue();
        assertThat(matches("measure fsname=ext4", f)).isFalse();
        assertThat(matches("measure fsuuid=" + FS_UUID, f)).isTrue();
        assertThat(matches("measure fsuuid=00000000-0000-0000-0000-000000000001", f)).isFalse();
        assertThat(matches("measure fsuuid=" + FS_UUID, open(READ))).isFalse();
    }

    @Test
    void uidComparesTheRealIdAndEuidTheEffectiveOne() {
        AccessFacts f = open(READ).withUids(1000, 0, 0);
        assertThat(matches("measure uid=1000", f)).isTrue();
        assertThat(matches("measure uid=0", f)).isFalse();
        assertThat(matches("measure uid>999", f)).isTrue();
        assertThat(matches("measure uid<1000", f)).isFalse();
        assertThat(matches("measure euid=0", f)).isTrue();
        assertThat(matches("measure euid=1000", f)).isFalse();
    }

    @Test
    void euidWithCapSetuidAlsoTestsSavedAndRealIds() {
        AccessFacts noCap = open(READ).withUids(5, 6, 7);
        AccessFacts cap = noCap.withCapabilities(true, false);
        assertThat(matches("measure euid=7", noCap)).isFalse();
        assertThat(matches("measure euid=7", cap)).isTrue();
        assertThat(matches("measure euid=5", cap)).isTrue();
        assertThat(matches("measure euid=8", cap)).isFalse();
        AccessFacts g = open(READ).withGids(5, 6, 7);
        assertThat(matches("measure egid=7", g)).isFalse();
        assertThat(matches("measure egid=7", g.withCapabilities(false, true))).isTrue();
        assertThat(matches("measure egid=7", g.withCapabilities(true, false))).isFalse();
        assertThat(matches("measure gid=5", g)).isTrue();
        assertThat(matches("measure gid>5", g)).isFalse();
    }

    @Test
    void idsCompareUnsigned() {
        AccessFacts nobody = open(READ).withUids(4294967294L, 4294967294L, 4294967294L);
        assertThat(matches("measure uid>1000", nobody)).isTrue();
        assertThat(matches("measure uid=4294967294", nobody)).isTrue();
    }

    @Test
    void ownerConditions() {
        AccessFacts f = open(READ).withOwner(71452, 100);
        assertThat(matches("appraise fowner=71452", f)).isTrue();
        assertThat(matches("appraise fowner=0", f)).isFalse();
        assertThat(matches("appraise fowner<71452", f)).isFalse();
        assertThat(matches("appraise fowner>71451", f)).isTrue();
        assertThat(matches("appraise fgroup=100", f)).isTrue();
        assertThat(matches("appraise fgroup<100", f)).isFalse();
    }

    @Test
    void lsmConditionsNeverMatch() {
        assertThat(matches("measure subj_role=unconfined", open(READ))).isFalse();
        assertThat(PolicyMatcher.match(policy("measure subj_role=unconfined"), open(READ)).isNone()).isTrue();
    }

    @Test
    void keyringsAndLabelsOnlyForTheirFuncs() {
        AccessFacts key = AccessFacts.of(Func.KEY_CHECK, 0).withFuncData(".ima");
        assertThat(matches("measure func=KEY_CHECK keyrings=.ima|.evm", key)).isTrue();
        assertThat(matches("measure func=KEY_CHECK keyrings=.evm", key)).isFalse();
        assertThat(matches("measure func=KEY_CHECK", key)).isTrue();
        assertThat(matches("measure func=KEY_CHECK keyrings=.ima", AccessFacts.of(Func.KEY_CHECK, 0))).isFalse();
        assertThat(matches("measure func=KEY_CHECK uid=5 keyrings=.ima", key)).isFalse();
        assertThat(matches("measure", key)).as("a rule without func does not match keys").isFalse();
        AccessFacts data = AccessFacts.of(Func.CRITICAL_DATA, 0).withFuncData("selinux");
        assertThat(matches("measure func=CRITICAL_DATA label=selinux", data)).isTrue();
        assertThat(matches("measure func=CRITICAL_DATA label=kernel_info", data)).isFalse();
        assertThat(matches("measure func=KEY_CHECK", data)).isFalse();
    }

    @Test
    void firstMatchPerActionClassWinsAndDontShadowsOnlyItsClass() {
        Policy p = policy("""
                dont_measure fsmagic=0x1021994
                measure func=FILE_CHECK
                appraise fowner=0
                dont_appraise func=FILE_CHECK
                audit
                """);
        MatchResult onTmpfs = PolicyMatcher.match(p, open(READ).withFilesystem(TMPFS, "tmpfs", null));
        assertThat(onTmpfs.measure()).isFalse();
        assertThat(onTmpfs.appraise()).isTrue();
        assertThat(onTmpfs.audit()).isTrue();
        assertThat(onTmpfs.matched()).extracting(Rule::line).containsExactly(1, 3, 5);

        MatchResult elsewhere = PolicyMatcher.match(p, open(READ).withOwner(1000, 1000));
        assertThat(elsewhere.actions()).containsExactly(Action.MEASURE, Action.AUDIT);
        assertThat(elsewhere.matched()).extracting(Rule::line).containsExactly(2, 4, 5);
    }

    @Test
    void laterRulesOfADecidedClassDoNotCount() {
        Policy p = policy("measure func=FILE_CHECK pcr=11\nmeasure pcr=12 template=ima-ng\n");
        MatchResult r = PolicyMatcher.match(p, open(READ));
        assertThat(r.measure()).isTrue();
        assertThat(r.pcr()).isEqualTo(11);
        assertThat(r.template()).isNull();
        assertThat(r.matched()).hasSize(1);
        MatchResult bprm = PolicyMatcher.match(p, AccessFacts.of(Func.BPRM_CHECK, EXEC));
        assertThat(bprm.pcr()).isEqualTo(12);
        assertThat(bprm.template()).isEqualTo(Template.IMA_NG);
    }

    @Test
    void defaultPcrIsTen() {
        assertThat(PolicyMatcher.match(policy("measure"), open(READ)).pcr()).isEqualTo(MatchResult.DEFAULT_PCR).isEqualTo(10);
    }

    @Test
    void appraiseClearsAnEarlierHashButNotALaterOne() {
        MatchResult hashFirst = PolicyMatcher.match(policy("hash\nappraise\n"), open(READ));
        assertThat(hashFirst.hash()).isFalse();
        assertThat(hashFirst.appraise()).isTrue();
        MatchResult appraiseFirst = PolicyMatcher.match(policy("appraise\nhash\n"), open(READ));
        assertThat(appraiseFirst.hash()).isTrue();
        assertThat(PolicyMatcher.match(policy("dont_hash\nhash\n"), open(READ)).hash()).isFalse();
    }

    @Test
    void dontRulesAreSkippedWhenThePolicyCannotGrantTheirClass() {
        // No measure rule at all: the kernel does not even ask about measure, dont_measure is irrelevant.
        MatchResult r = PolicyMatcher.match(policy("dont_measure\nappraise\n"), open(READ));
        assertThat(r.appraise()).isTrue();
        assertThat(r.matched()).extracting(Rule::line).containsExactly(2);
    }

    @Test
    void appraiseOptionsComeFromTheWinningAppraiseRule() {
        Policy p = policy("""
                appraise func=BPRM_CHECK appraise_type=imasig appraise_algos=sha256,sha512
                appraise func=FILE_CHECK permit_directio
                """);
        MatchResult exec = PolicyMatcher.match(p, AccessFacts.of(Func.BPRM_CHECK, EXEC));
        assertThat(exec.signatureRequired()).isTrue();
        assertThat(exec.appraiseAlgos()).containsExactly(HashAlgo.SHA256, HashAlgo.SHA512);
        assertThat(exec.allowsAlgo(HashAlgo.SHA1)).isFalse();
        assertThat(exec.permitDirectio()).isFalse();
        MatchResult file = PolicyMatcher.match(p, open(READ));
        assertThat(file.signatureRequired()).isFalse();
        assertThat(file.appraiseAlgos()).isEmpty();
        assertThat(file.allowsAlgo(HashAlgo.SHA1)).isTrue();
        assertThat(file.permitDirectio()).isTrue();
    }

    @Test
    void setxattrRulesNeverMatchAccesses() {
        Policy p = policy("appraise func=SETXATTR_CHECK appraise_algos=sha256\n");
        assertThat(PolicyMatcher.match(p, open(READ)).isNone()).isTrue();
        assertThat(PolicyMatcher.match(p, AccessFacts.of(Func.SETXATTR_CHECK, 0)).isNone()).isTrue();
    }

    @Test
    void seedPolicyAppraisesTheOwnersFilesOnTmpfsOnly() {
        Policy seed = policy("appraise fsmagic=0x01021994 fowner=71452\nappraise func=MODULE_CHECK\n");
        AccessFacts owned = open(READ).withFilesystem(TMPFS, "tmpfs", null).withOwner(71452, 0);
        assertThat(PolicyMatcher.match(seed, owned).appraise()).isTrue();
        assertThat(PolicyMatcher.match(seed, owned.withOwner(0, 0)).appraise()).isFalse();
        assertThat(PolicyMatcher.match(seed, open(READ).withOwner(71452, 0)).appraise()).isFalse();
        assertThat(PolicyMatcher.match(seed, AccessFacts.of(Func.MODULE_CHECK, READ)).appraise()).isTrue();
    }

    @Test
    void emptyPolicyDoesNothing() {
        assertThat(PolicyMatcher.match(Policy.empty(), open(READ)).isNone()).isTrue();
    }
}
