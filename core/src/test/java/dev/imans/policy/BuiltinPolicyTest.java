package dev.imans.policy;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The kernel's built-in rule lists (ima_policy.c), as the kernel reads them back before a custom policy. */
class BuiltinPolicyTest {
    private static final String DONT_MEASURE = """
            dont_measure fsmagic=0x9fa0 \n\
            dont_measure fsmagic=0x62656572 \n\
            dont_measure fsmagic=0x64626720 \n\
            dont_measure fsmagic=0x1021994 \n\
            dont_measure fsmagic=0x1cd1 \n\
            dont_measure fsmagic=0x42494e4d \n\
            dont_measure fsmagic=0x73636673 \n\
            dont_measure fsmagic=0xf97cff8c \n\
            dont_measure fsmagic=0x43415d53 \n\
            dont_measure fsmagic=0x27e0eb \n\
            dont_measure fsmagic=0x63677270 \n\
            dont_measure fsmagic=0x6e736673 \n\
            dont_measure fsmagic=0xde5e81e4 \n""";

    private static String show(String name) {
        return BuiltinPolicy.named(name).orElseThrow().show();
    }

    @Test
    void tcb() {
        assertThat(show("tcb")).isEqualTo(DONT_MEASURE + """
                measure func=MMAP_CHECK mask=MAY_EXEC \n\
                measure func=BPRM_CHECK mask=MAY_EXEC \n\
                measure func=FILE_CHECK mask=^MAY_READ euid=0 \n\
                measure func=FILE_CHECK mask=^MAY_READ uid=0 \n\
                measure func=MODULE_CHECK \n\
                measure func=FIRMWARE_CHECK \n\
                measure func=POLICY_CHECK \n""");
    }

    @Test
    void imaTcbIsTheOriginalSetWithAnExactReadMask() {
        assertThat(show("ima_tcb")).isEqualTo(DONT_MEASURE + """
                measure func=MMAP_CHECK mask=MAY_EXEC \n\
                measure func=BPRM_CHECK mask=MAY_EXEC \n\
                measure func=FILE_CHECK mask=MAY_READ uid=0 \n\
                measure func=MODULE_CHECK \n\
                measure func=FIRMWARE_CHECK \n""");
    }

    @Test
    void appraiseTcb() {
        String dontAppraise = """
                dont_appraise fsmagic=0x9fa0 \n\
                dont_appraise fsmagic=0x62656572 \n\
                dont_appraise fsmagic=0x64626720 \n\
                dont_appraise fsmagic=0x1021994 \n\
                dont_appraise fsmagic=0x858458f6 \n\
                dont_appraise fsmagic=0x1cd1 \n\
                dont_appraise fsmagic=0x42494e4d \n\
                dont_appraise fsmagic=0x73636673 \n\
                dont_appraise fsmagic=0xf97cff8c \n\
                dont_appraise fsmagic=0x43415d53 \n\
                dont_appraise fsmagic=0x6e736673 \n\
                dont_appraise fsmagic=0xde5e81e4 \n\
                dont_appraise fsmagic=0x27e0eb \n\
                dont_appraise fsmagic=0x63677270 \n""";
        assertThat(show("appraise_tcb")).isEqualTo(dontAppraise + "appraise fowner=0 \n");
        KernelProfile both = KernelProfile.debian61().withAppraiseTcbOptions(true, true);
        assertThat(BuiltinPolicy.named("appraise_tcb", both).orElseThrow().show()).isEqualTo(dontAppraise
                + "appraise func=POLICY_CHECK appraise_type=imasig \nappraise fowner=0 appraise_type=imasig \n");
    }

    @Test
    void secureBootAndCriticalData() {
        assertThat(show("secure_boot")).isEqualTo("""
                appraise func=MODULE_CHECK appraise_type=imasig \n\
                appraise func=FIRMWARE_CHECK appraise_type=imasig \n\
                appraise func=KEXEC_KERNEL_CHECK appraise_type=imasig \n\
                appraise func=POLICY_CHECK appraise_type=imasig \n""");
        assertThat(show("critical_data")).isEqualTo("measure func=CRITICAL_DATA \n");
    }

    @Test
    void everyNamedPolicyExistsAndUnknownNamesDoNot() {
        for (String name : BuiltinPolicy.NAMES) {
            assertThat(BuiltinPolicy.named(name)).as(name).isPresent();
        }
        assertThat(BuiltinPolicy.named("fail_securely")).isEmpty();
        assertThat(BuiltinPolicy.named("TCB")).isEmpty();
    }

    @Test
    void tcbMeasuresRootReadsAndExecsButNotTmpfs() {
        Policy tcb = BuiltinPolicy.named("tcb").orElseThrow();
        AccessFacts rootRead = AccessFacts.of(Func.FILE_CHECK, Mask.MAY_READ.bit() | Mask.MAY_WRITE.bit());
        assertThat(PolicyMatcher.match(tcb, rootRead).measure()).isTrue();
        assertThat(PolicyMatcher.match(tcb, rootRead.withFilesystem(FsMagic.TMPFS_MAGIC.value(), "tmpfs", null))
                .measure()).isFalse();
        assertThat(PolicyMatcher.match(tcb, rootRead.withUids(1000, 1000, 1000)).measure()).isFalse();
        assertThat(PolicyMatcher.match(tcb, AccessFacts.of(Func.BPRM_CHECK, Mask.MAY_EXEC.bit())
                .withUids(1000, 1000, 1000)).measure()).isTrue();
    }
}
