package dev.imans.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.EnumSet;
import org.junit.jupiter.api.Test;

/** Each knob of {@link KernelProfile} changes exactly the verdicts it documents. */
class KernelProfileTest {
    private static final KernelProfile DEBIAN = KernelProfile.debian61();
    private static final KernelProfile RECENT = KernelProfile.recent();

    private static String show(String text, KernelProfile p) throws PolicyException {
        return PolicyParser.parse(text, p).show();
    }

    private static void rejected(String text, KernelProfile p) {
        assertThatThrownBy(() -> PolicyParser.parse(text, p)).isInstanceOf(PolicyException.class);
    }

    @Test
    void defaultsAreDebian61() {
        assertThat(KernelProfile.defaults()).isEqualTo(DEBIAN);
        assertThat(DEBIAN.asymmetricKeys()).isTrue();
        assertThat(DEBIAN.modsig()).isFalse();
    }

    @Test
    void mmapCheckReqprotOnlyWhereTheFuncExists() throws PolicyException {
        rejected("measure func=MMAP_CHECK_REQPROT", DEBIAN);
        assertThat(show("measure func=MMAP_CHECK_REQPROT", RECENT)).isEqualTo("measure func=MMAP_CHECK_REQPROT \n");
    }

    @Test
    void withoutAsymmetricKeysKeyCheckAndKeyringsAreUnknown() {
        KernelProfile noKeys = DEBIAN.withFuncs(EnumSet.complementOf(
                EnumSet.of(Func.NONE, Func.POST_SETATTR, Func.MMAP_CHECK_REQPROT, Func.KEY_CHECK)));
        assertThat(noKeys.asymmetricKeys()).isFalse();
        rejected("measure func=KEY_CHECK", noKeys);
        rejected("measure func=CRITICAL_DATA keyrings=.ima", noKeys);
    }

    @Test
    void modsigAllowsAppendedSignaturesAndTheBlacklistFlagOn61() throws PolicyException {
        KernelProfile modsig = DEBIAN.withModsig(true);
        assertThat(show("appraise func=MODULE_CHECK appraise_type=imasig|modsig appraise_flag=check_blacklist", modsig))
                .isEqualTo("appraise func=MODULE_CHECK appraise_type=imasig|modsig appraise_flag=check_blacklist \n");
        rejected("appraise func=MODULE_CHECK appraise_type=imasig appraise_flag=check_blacklist", modsig);
        rejected("appraise func=FILE_CHECK appraise_type=imasig|modsig", modsig);
        rejected("appraise func=MODULE_CHECK appraise_flag=whatever", modsig);
    }

    @Test
    void implicitBlacklistIgnoresAppraiseFlag() throws PolicyException {
        assertThat(show("appraise func=MODULE_CHECK appraise_flag=anything appraise_type=imasig|modsig", RECENT))
                .isEqualTo("appraise func=MODULE_CHECK appraise_type=imasig|modsig \n");
    }

    @Test
    void suffixCommentsEndARuleOnNewerKernels() throws PolicyException {
        rejected("measure func=FILE_CHECK # trailing comment", DEBIAN);
        assertThat(show("measure func=FILE_CHECK # trailing comment", RECENT)).isEqualTo("measure func=FILE_CHECK \n");
        assertThat(show("measure #func=BOGUS", RECENT)).isEqualTo("measure \n");
    }

    @Test
    void hashAlgorithmNamesAndAvailability() throws PolicyException {
        rejected("appraise appraise_algos=sha3-256", DEBIAN);
        assertThat(show("appraise appraise_algos=sha3-256,sha256", RECENT)).isEqualTo("appraise appraise_algos=sha256,sha3-256 \n");
        rejected("appraise appraise_algos=tgr192", RECENT);
    }

    @Test
    void lsmConditionsFollowTheActiveLsm() throws PolicyException {
        rejected("measure obj_type=tmp_t", DEBIAN);
        KernelProfile selinux = DEBIAN.withLsmRules(EnumSet.allOf(LsmKey.class));
        assertThat(show("measure subj_type=a obj_type=b subj_user=c obj_user=d subj_role=e obj_role=f", selinux))
                .isEqualTo("measure obj_user=d obj_role=f obj_type=b subj_user=c subj_role=e subj_type=a \n");
        rejected("measure subj_role=unconfined", DEBIAN.withLsmRules(EnumSet.noneOf(LsmKey.class)));
    }

    @Test
    void profileRefusesUnwritableFuncs() {
        assertThatThrownBy(() -> DEBIAN.withFuncs(EnumSet.of(Func.NONE))).isInstanceOf(IllegalArgumentException.class);
    }
}
