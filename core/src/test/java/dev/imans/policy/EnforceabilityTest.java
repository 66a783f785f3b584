package dev.imans.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Which rules imans can enforce from userspace, and the warnings (line, column, reason) for the others. */
class EnforceabilityTest {
    private static Rule rule(String text) throws PolicyException {
        return PolicyParser.parse(text).rules().getFirst();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "measure",
            "measure func=FILE_CHECK mask=MAY_READ",
            "appraise func=BPRM_CHECK appraise_type=imasig",
            "audit func=BPRM_CHECK",
            "hash func=FILE_CHECK",
            "appraise fsmagic=0x794c7630",
            "dont_measure fsname=overlay"})
    void enforceable(String text) throws PolicyException {
        assertThat(rule(text).isEnforceable()).isTrue();
        assertThat(rule(text).enforceabilityWarnings()).isEmpty();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "measure func=MMAP_CHECK|9|mmap(PROT_EXEC)",
            "measure func=CREDS_CHECK euid=0|9|credentials the new program will run with",
            "measure func=CREDS_CHECK fowner=0|9|imans judges an exec once, as BPRM_CHECK",
            "appraise func=MODULE_CHECK|10|module files",
            "measure func=FIRMWARE_CHECK|9|firmware",
            "measure func=KEXEC_KERNEL_CHECK|9|kexec images",
            "measure func=KEXEC_INITRAMFS_CHECK|9|kexec images",
            "measure func=KEXEC_CMDLINE|9|kexec command line",
            "appraise func=POLICY_CHECK|10|IMA policy files",
            "measure func=KEY_CHECK|9|keyrings",
            "measure func=CRITICAL_DATA|9|inside the kernel",
            "appraise func=SETXATTR_CHECK appraise_algos=sha256|10|setxattr",
            "measure subj_role=unconfined|9|LSM condition",
            "appraise func=FILE_CHECK permit_directio|26|O_DIRECT",
            "measure func=FILE_CHECK digest_type=verity|25|fs-verity"})
    void notEnforceable(String text, int column, String reason) throws PolicyException {
        Rule r = rule(text);
        assertThat(r.isEnforceable()).isFalse();
        List<PolicyWarning> w = r.enforceabilityWarnings();
        assertThat(w).hasSize(1);
        assertThat(w.getFirst().line()).isEqualTo(1);
        assertThat(w.getFirst().column()).isEqualTo(column);
        assertThat(w.getFirst().message()).contains(reason);
    }

    @Test
    void policyWarningsCollectEveryRuleInOrder() throws PolicyException {
        Policy p = PolicyParser.parse("measure func=BPRM_CHECK\nappraise func=MODULE_CHECK\n\n"
                + "appraise func=FILE_CHECK permit_directio appraise_type=imasig\n");
        assertThat(p.warnings()).extracting(PolicyWarning::line).containsExactly(2, 4);
        assertThat(p.warnings().getFirst().message()).startsWith("func=MODULE_CHECK is not enforceable from userspace");
    }

    @Test
    void seedPolicyReportsModuleCheck() throws PolicyException {
        Policy seed = PolicyParser.parse("appraise fsmagic=0x01021994 fowner=71452\nappraise func=MODULE_CHECK\n");
        assertThat(seed.rules().getFirst().isEnforceable()).isTrue();
        assertThat(seed.warnings()).singleElement().satisfies(w -> {
            assertThat(w.line()).isEqualTo(2);
            assertThat(w.column()).isEqualTo(10);
            assertThat(w.message()).contains("MODULE_CHECK").contains("not enforceable");
        });
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "appraise fsmagic=0x01021994|true",
            "appraise fsmagic=0x01021994 fowner=71452|true",
            "measure func=BPRM_CHECK|true",
            "appraise func=BPRM_CHECK fsname=tmpfs|true",
            "appraise func=FILE_CHECK fsname=tmpfs|false",
            "measure mask=MAY_READ|false",
            "measure mask=MAY_EXEC|true",
            "appraise|true",
            "appraise fsmagic=0xef53|false",
            "appraise fsname=ext4|false",
            "appraise func=MODULE_CHECK|false",
            "dont_appraise fsmagic=0x01021994|false",
            "audit func=BPRM_CHECK|false",
            "appraise fsuuid=a4f1a3b6-8d2e-4c3a-9a55-1f0e5e2c7d10|false"})
    void memfdExecIsAGapOfEveryRuleThatMayCoverTmpfs(String text, boolean gap) throws PolicyException {
        Rule r = rule(text);
        if (gap) {
            assertThat(Enforceability.gaps(r)).singleElement().satisfies(w -> {
                assertThat(w.line()).isEqualTo(1);
                assertThat(w.column()).isEqualTo(1);
                assertThat(w.message()).contains("memfd").contains("exec guard");
            });
            // Where the daemon's exec guard judges them, only a measure rule still misses them.
            assertThat(Enforceability.gaps(r, Enforceability.MemfdExecs.GUARDED)).hasSize(
                    r.action() == Action.MEASURE ? 1 : 0);
            assertThat(Enforceability.gaps(r, Enforceability.MemfdExecs.UNJUDGED)).singleElement()
                    .satisfies(w -> assertThat(w.message()).contains("not seen").contains("vm.memfd_noexec=2"));
        } else {
            assertThat(Enforceability.gaps(r)).isEmpty();
            assertThat(Enforceability.gaps(r, Enforceability.MemfdExecs.UNJUDGED)).isEmpty();
        }
        assertThat(r.enforceabilityWarnings()).as("a gap is not a refusal").allMatch(w -> !w.message().contains("memfd"));
    }

    @Test
    void hugetlbMemfdsAreJudgedByTheirOwnFilesystemsMagicAndName() throws PolicyException {
        long hugetlbfs = 0x958458f6L;
        assertThat(Enforceability.mayAppraiseInternalExec(PolicyParser.parse("appraise fsmagic=0x01021994\n"),
                hugetlbfs, "hugetlbfs")).isFalse();
        assertThat(Enforceability.mayAppraiseInternalExec(PolicyParser.parse("appraise fsname=hugetlbfs\n"),
                hugetlbfs, "hugetlbfs")).isTrue();
        assertThat(Enforceability.mayAppraiseInternalExec(PolicyParser.parse("appraise func=BPRM_CHECK\n"),
                hugetlbfs, "hugetlbfs")).isTrue();
    }

    @Test
    void policyGapsNameTheirLines() throws PolicyException {
        Policy p = PolicyParser.parse("appraise fsmagic=0xef53\nappraise fsmagic=0x01021994 fowner=71452\n");
        assertThat(p.gaps()).extracting(PolicyWarning::line).containsExactly(2);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "appraise fsmagic=0x01021994|true",
        "appraise func=BPRM_CHECK|true",
        "appraise fowner=0|true",
        "appraise fsname=tmpfs func=BPRM_CHECK mask=MAY_EXEC|true",
        "appraise func=FILE_CHECK|false",
        "appraise fsmagic=0xef53|false",
        "appraise func=BPRM_CHECK mask=MAY_READ|false",
        "measure func=BPRM_CHECK|false",
        // The kernel's own tcb policies start with dont_appraise for tmpfs: no memfd exec is appraised.
        "dont_appraise fsmagic=0x01021994;appraise func=BPRM_CHECK|false",
        "dont_appraise fsname=tmpfs func=BPRM_CHECK;appraise|false",
        "dont_appraise fsmagic=0x01021994 func=FILE_CHECK;appraise func=BPRM_CHECK|true",
        "dont_appraise fsmagic=0x01021994 fowner=0;appraise func=BPRM_CHECK|true",
        "dont_appraise fsmagic=0x01021994 uid=0;appraise|true",
        "dont_appraise fsmagic=0xef53;appraise|true",
        "appraise func=BPRM_CHECK;dont_appraise fsmagic=0x01021994|true",
        // No rule can name the internal mount's UUID.
        "appraise fsuuid=a4f1a3b6-8d2e-4c3a-9a55-1f0e5e2c7d10|false",
        "appraise fsuuid=a4f1a3b6-8d2e-4c3a-9a55-1f0e5e2c7d10;appraise fsname=tmpfs|true",
    })
    void memfdExecsAreAppraisedWhereTheFirstRuleThatMayMatchThemAppraises(String rules, boolean appraised)
            throws PolicyException {
        Policy p = PolicyParser.parse(rules.replace(';', '\n') + "\n");
        assertThat(Enforceability.mayAppraiseMemfdExec(p)).as(rules).isEqualTo(appraised);
    }

    @Test
    void lsmConditionsAreJudgedAgainstTheActiveLsms() throws PolicyException {
        Rule r = rule("measure subj_role=unconfined");
        Optional<ActiveLsms> apparmor = Optional.of(ActiveLsms.parse("lockdown,capability,apparmor"));
        Optional<ActiveLsms> none = Optional.of(ActiveLsms.parse("lockdown,capability,landlock,bpf"));
        assertThat(Enforceability.warnings(r, apparmor)).singleElement().satisfies(w -> assertThat(w.message())
                .contains("LSM condition the kernel's apparmor judges").contains("never matches here"));
        assertThat(Enforceability.warnings(r, none)).singleElement().satisfies(w -> assertThat(w.message())
                .contains("no active LSM (lockdown,capability,landlock,bpf)").contains("no effect"));
        assertThat(Enforceability.warnings(r, Optional.empty())).singleElement().satisfies(w -> assertThat(
                w.message()).contains("are not known here").contains("never matches here"));
        // SELinux's conditions are judged on its contexts: nothing to report.
        ActiveLsms selinux = ActiveLsms.parse("capability,selinux");
        Rule judged = PolicyParser.parse("measure obj_type=etc_t subj_role=system_r",
                KernelProfile.defaults().withLsmRules(selinux.ruleKeys())).rules().getFirst();
        assertThat(Enforceability.warnings(judged, Optional.of(selinux))).isEmpty();
    }

    @Test
    void eachLsmBuildsItsOwnConditions() {
        assertThat(ActiveLsms.parse("selinux").ruleKeys()).containsExactlyInAnyOrder(LsmKey.values());
        assertThat(ActiveLsms.parse("capability,smack").ruleKeys())
                .containsExactlyInAnyOrder(LsmKey.SUBJ_USER, LsmKey.OBJ_USER);
        assertThat(ActiveLsms.parse("apparmor").ruleKeys()).containsExactly(LsmKey.SUBJ_ROLE);
        assertThat(ActiveLsms.parse("lockdown,capability,landlock,bpf").ruleKeys()).isEmpty();
        assertThat(ActiveLsms.parse("none").names()).isEmpty();
        assertThat(ActiveLsms.parse("smack,selinux").judgeOf(LsmKey.OBJ_TYPE)).contains("selinux");
    }
}
