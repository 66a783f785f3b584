package dev.imans.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.imans.crypto.HashAlgo;
import java.util.EnumSet;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every grammar element read and read back, and every rejection reason with its line and column. */
class PolicyParserTest {

    static Stream<Arguments> accepted() {
        return Stream.of(
                // {policy text, read-back}
                Arguments.of("measure", "measure \n"),
                Arguments.of("dont_measure", "dont_measure \n"),
                Arguments.of("appraise", "appraise \n"),
                Arguments.of("dont_appraise", "dont_appraise \n"),
                Arguments.of("audit", "audit \n"),
                Arguments.of("hash", "hash \n"),
                Arguments.of("dont_hash", "dont_hash \n"),
                Arguments.of("measure func=FILE_CHECK", "measure func=FILE_CHECK \n"),
                Arguments.of("measure func=PATH_CHECK", "measure func=FILE_CHECK \n"),
                Arguments.of("measure func=FILE_MMAP", "measure func=MMAP_CHECK \n"),
                Arguments.of("measure func=CREDS_CHECK", "measure func=CREDS_CHECK \n"),
                Arguments.of("measure func=KEXEC_CMDLINE", "measure func=KEXEC_CMDLINE \n"),
                Arguments.of("measure mask=MAY_EXEC", "measure mask=MAY_EXEC \n"),
                Arguments.of("measure mask=^MAY_WRITE", "measure mask=^MAY_WRITE \n"),
                Arguments.of("measure mask=^MAY_APPEND", "measure mask=^MAY_APPEND \n"),
                Arguments.of("measure fsmagic=0", "measure fsmagic=0x0 \n"),
                Arguments.of("measure fsmagic=ffffffffffffffff", "measure fsmagic=0xffffffffffffffff \n"),
                Arguments.of("measure fsmagic=0xDE5E81E4", "measure fsmagic=0xde5e81e4 \n"),
                Arguments.of("measure fsname=ext4 fsname=xfs", "measure fsname=xfs \n"),
                Arguments.of("measure fsname=" + "x".repeat(70), "measure fsname=" + "x".repeat(63) + " \n"),
                Arguments.of("measure fsuuid=6A2EC3E7-F8DC-4E9B-9D3C-E1D1F5B4F8A1",
                        "measure fsuuid=6a2ec3e7-f8dc-4e9b-9d3c-e1d1f5b4f8a1 \n"),
                Arguments.of("measure fsuuid=6a2ec3e7-f8dc-4e9b-9d3c-e1d1f5b4f8a1trailing",
                        "measure fsuuid=6a2ec3e7-f8dc-4e9b-9d3c-e1d1f5b4f8a1 \n"),
                Arguments.of("measure fsuuid=00000000-0000-0000-0000-000000000000 fsuuid=6a2ec3e7-f8dc-4e9b-9d3c-e1d1f5b4f8a1",
                        "measure fsuuid=6a2ec3e7-f8dc-4e9b-9d3c-e1d1f5b4f8a1 \n"),
                Arguments.of("measure euid>1000", "measure euid>1000 \n"),
                Arguments.of("measure euid<1000", "measure euid<1000 \n"),
                Arguments.of("measure uid=010", "measure uid=10 \n"),
                Arguments.of("measure uid=2147483648", "measure uid=-2147483648 \n"),
                Arguments.of("measure gid=5", "measure gid=5 \n"),
                Arguments.of("measure gid>5", "measure gid>5 \n"),
                Arguments.of("measure egid<5", "measure egid<5 \n"),
                Arguments.of("measure fowner>5", "measure fowner>5 \n"),
                Arguments.of("measure fowner<5", "measure fowner<5 \n"),
                Arguments.of("measure fgroup=5", "measure fgroup=5 \n"),
                Arguments.of("measure fgroup>5", "measure fgroup>5 \n"),
                Arguments.of("measure fgroup<5", "measure fgroup<5 \n"),
                Arguments.of("measure pcr=0", "measure pcr=0 \n"),
                Arguments.of("measure pcr=-0", "measure pcr=0 \n"),
                Arguments.of("measure pcr=+7", "measure pcr=7 \n"),
                Arguments.of("measure template=ima-sig", "measure template=ima-sig \n"),
                Arguments.of("measure template=d-ng|n-ng|sig", "measure template=ima-sig \n"),
                Arguments.of("measure template=ima-ngv2", "measure template=ima-ngv2 \n"),
                Arguments.of("measure template=ima-sigv2", "measure template=ima-sigv2 \n"),
                Arguments.of("measure template=ima-modsig", "measure template=ima-modsig \n"),
                Arguments.of("measure template=evm-sig", "measure template=evm-sig \n"),
                Arguments.of("measure template=d|n", "measure template=ima \n"),
                Arguments.of("measure func=CRITICAL_DATA label=a|b", "measure func=CRITICAL_DATA label=a|b \n"),
                Arguments.of("dont_measure func=KEY_CHECK keyrings=.builtin_trusted_keys uid=0",
                        "dont_measure func=KEY_CHECK keyrings=.builtin_trusted_keys uid=0 \n"),
                Arguments.of("appraise appraise_algos=sha256,sha256", "appraise appraise_algos=sha256 \n"),
                Arguments.of("appraise appraise_algos=sha512,sha1,md5", "appraise appraise_algos=md5,sha1,sha512 \n"),
                Arguments.of("appraise func=BPRM_CHECK appraise_type=imasig permit_directio",
                        "appraise func=BPRM_CHECK appraise_type=imasig permit_directio \n"),
                Arguments.of("measure digest_type=verity digest_type=verity", "measure digest_type=verity \n"),
                Arguments.of("measure subj_role=unconfined", "measure subj_role=unconfined \n"),
                Arguments.of("permit_directio fgroup=1 egid=2 fowner=3 euid=4 fsuuid=6a2ec3e7-f8dc-4e9b-9d3c-e1d1f5b4f8a1 "
                                + "pcr=1 fsname=ext4 fsmagic=ef53 mask=^MAY_READ func=BPRM_CHECK measure template=ima-ng",
                        "measure func=BPRM_CHECK mask=^MAY_READ fsmagic=0xef53 fsname=ext4 pcr=1 "
                                + "fsuuid=6a2ec3e7-f8dc-4e9b-9d3c-e1d1f5b4f8a1 euid=4 egid=2 fowner=3 fgroup=1 "
                                + "template=ima-ng permit_directio \n"),
                Arguments.of("\t \tmeasure\t\tfunc=FILE_CHECK \t", "measure func=FILE_CHECK \n"),
                Arguments.of("  # indented comment\n\n\t\nmeasure\n", "measure \n"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("accepted")
    void acceptsAndReadsBack(String text, String readBack) throws PolicyException {
        assertThat(PolicyParser.parse(text).show()).isEqualTo(readBack);
    }

    static Stream<Arguments> rejected() {
        return Stream.of(
                // {policy text, line, column, reason fragment}
                Arguments.of("foo=1", 1, 1, "unknown token \"foo=1\""),
                Arguments.of("MEASURE", 1, 1, "unknown token \"MEASURE\" (policy keywords are lower case)"),
                Arguments.of("measure fsname=", 1, 9, "unknown token \"fsname=\" (a value is missing)"),
                Arguments.of("measure uid<", 1, 9, "(a value is missing)"),
                Arguments.of("measure x # c", 1, 9, "unknown token \"x\""),
                Arguments.of("measure # c", 1, 9, "does not accept a comment after a rule"),
                Arguments.of("measure\r", 1, 1, "CRLF"),
                Arguments.of("func=FILE_CHECK", 1, 1, "rule has no action"),
                Arguments.of("   mask=MAY_READ", 1, 4, "rule has no action"),
                Arguments.of("measure appraise", 1, 9, "a rule takes exactly one action: \"appraise\" follows \"measure\""),
                Arguments.of("measure func=file_check", 1, 9, "unknown func \"file_check\" (func names are upper case)"),
                Arguments.of("measure func=POST_SETATTR", 1, 9, "unknown func \"POST_SETATTR\""),
                Arguments.of("measure func=NONE", 1, 9, "unknown func \"NONE\""),
                Arguments.of("measure func=MMAP_CHECK_REQPROT", 1, 9, "func=MMAP_CHECK_REQPROT is not supported"),
                Arguments.of("measure func=BPRM_CHECK func=BPRM_CHECK", 1, 25, "duplicate func= condition"),
                Arguments.of("measure mask=MAY_EXECUTE", 1, 9, "unknown mask \"MAY_EXECUTE\""),
                Arguments.of("measure mask=^^MAY_READ", 1, 9, "unknown mask"),
                Arguments.of("measure mask=MAY_READ mask=^MAY_READ", 1, 23, "duplicate mask= condition"),
                Arguments.of("measure fsmagic=0x", 1, 9, "invalid fsmagic \"0x\": expected a hexadecimal number"),
                Arguments.of("measure fsmagic=-1", 1, 9, "invalid fsmagic"),
                Arguments.of("measure fsmagic=1ffffffffffffffff", 1, 9, "does not fit in 64 bits"),
                Arguments.of("measure fsmagic=1 fsmagic=1", 1, 19, "duplicate fsmagic= condition"),
                Arguments.of("measure fsuuid=6a2ec3e7f8dc-4e9b-9d3c-e1d1f5b4f8a1", 1, 9, "invalid fsuuid"),
                Arguments.of("measure fsuuid=6a2ec3e7-f8dc-4e9b-9d3c-e1d1f5b4f8a",
                        1, 9, "invalid fsuuid"),
                Arguments.of("measure fsuuid=6a2ec3e7-f8dc-4e9b-9d3c-e1d1f5b4f8a1 fsuuid=6a2ec3e7-f8dc-4e9b-9d3c-e1d1f5b4f8a1",
                        1, 53, "duplicate fsuuid= condition"),
                Arguments.of("measure uid=0 euid=0", 1, 15, "duplicate uid/euid condition: uid and euid share one slot"),
                Arguments.of("measure euid>0 uid<9", 1, 16, "duplicate uid/euid condition"),
                Arguments.of("measure gid=0 egid<5", 1, 15, "duplicate gid/egid condition: gid and egid share one slot"),
                Arguments.of("measure fowner=0 fowner>1", 1, 18, "duplicate fowner condition"),
                Arguments.of("measure fgroup=0 fgroup<1", 1, 18, "duplicate fgroup condition"),
                Arguments.of("measure uid=abc", 1, 9, "invalid uid \"abc\": expected a decimal number"),
                Arguments.of("measure egid=0x10", 1, 9, "invalid egid \"0x10\""),
                Arguments.of("measure fowner=-1", 1, 9, "invalid fowner"),
                Arguments.of("measure uid=4294967295", 1, 9, "uid \"4294967295\" is out of range"),
                Arguments.of("measure fgroup=99999999999999999999", 1, 9, "fgroup \"99999999999999999999\" is out of range"),
                Arguments.of("measure subj_user=system_u", 1, 9,
                        "subj_user= is not supported by the active LSM (the kernel logs \"rule for LSM 'system_u' is undefined\"); supported here: subj_role="),
                Arguments.of("measure subj_role=a subj_role=b", 1, 21, "duplicate subj_role= condition"),
                Arguments.of("measure digest_type=sha256", 1, 9, "unknown digest_type \"sha256\""),
                Arguments.of("appraise appraise_type=imasig digest_type=verity", 1, 31,
                        "digest_type= must come before appraise_type="),
                Arguments.of("appraise digest_type=verity appraise_type=imasig", 1, 29,
                        "appraise_type=imasig cannot follow digest_type=verity"),
                Arguments.of("appraise appraise_type=sigv3", 1, 10, "appraise_type=sigv3 must follow digest_type=verity"),
                Arguments.of("appraise func=MODULE_CHECK appraise_type=imasig|modsig", 1, 28,
                        "appraise_type=imasig|modsig needs CONFIG_IMA_APPRAISE_MODSIG"),
                Arguments.of("appraise appraise_type=rsa", 1, 10, "unknown appraise_type \"rsa\""),
                Arguments.of("appraise func=MODULE_CHECK appraise_flag=check_blacklist", 1, 28,
                        "appraise_flag= needs CONFIG_IMA_APPRAISE_MODSIG"),
                Arguments.of("appraise appraise_algos=sha256,", 1, 10, "unknown hash algorithm \"\""),
                Arguments.of("appraise appraise_algos=sha3-256", 1, 10, "unknown hash algorithm \"sha3-256\""),
                Arguments.of("appraise appraise_algos=sm3-256", 1, 10, "unknown hash algorithm \"sm3-256\""),
                Arguments.of("appraise appraise_algos=rmd128", 1, 10, "unavailable hash algorithm \"rmd128\""),
                Arguments.of("appraise appraise_algos=sha1 appraise_algos=sha256", 1, 30, "duplicate appraise_algos= option"),
                Arguments.of("measure pcr=x", 1, 9, "invalid pcr \"x\": expected a decimal number"),
                Arguments.of("measure pcr=64", 1, 9, "pcr \"64\" is out of range: must be 0..63"),
                Arguments.of("measure pcr=-1", 1, 9, "pcr \"-1\" is out of range"),
                Arguments.of("measure pcr=4294967296", 1, 9, "is out of range"),
                Arguments.of("template=ima-ng measure", 1, 1, "template= must follow the measure action"),
                Arguments.of("appraise template=ima-ng", 1, 10, "template= is only allowed with the measure action, not appraise"),
                Arguments.of("measure template=ima-sigv3", 1, 9, "unknown template \"ima-sigv3\""),
                Arguments.of("measure template=ima template=ima", 1, 22, "duplicate template= option"),
                Arguments.of("measure func=KEY_CHECK keyrings=a||b", 1, 24, "keyrings= has an empty item"),
                Arguments.of("measure func=KEY_CHECK keyrings=a keyrings=b", 1, 35, "duplicate keyrings= condition"),
                Arguments.of("measure func=CRITICAL_DATA label=a| ", 1, 28, "label= has an empty item"),
                Arguments.of("measure func=CRITICAL_DATA label=a label=b", 1, 36, "duplicate label= condition"),
                // validation (ima_validate_rule)
                Arguments.of("appraise pcr=11", 1, 10, "pcr= is only allowed with the measure action, not appraise"),
                Arguments.of("measure appraise_type=imasig", 1, 9, "appraise_type= is only allowed with the appraise action"),
                Arguments.of("hash appraise_algos=sha256", 1, 6, "appraise_algos= is only allowed with the appraise action"),
                Arguments.of("measure keyrings=.ima", 1, 9, "keyrings= is not allowed with a rule without func= (keyrings= needs func=KEY_CHECK)"),
                Arguments.of("measure func=FILE_CHECK label=x", 1, 25, "label= is not allowed with func=FILE_CHECK (label= needs func=CRITICAL_DATA)"),
                Arguments.of("measure func=KEXEC_CMDLINE mask=MAY_READ", 1, 28, "mask= is not allowed with func=KEXEC_CMDLINE"),
                Arguments.of("appraise func=KEXEC_CMDLINE", 1, 1, "func=KEXEC_CMDLINE only allows the measure and dont_measure actions"),
                Arguments.of("audit func=KEY_CHECK", 1, 1, "func=KEY_CHECK only allows the measure and dont_measure actions"),
                Arguments.of("measure func=CRITICAL_DATA fsmagic=1 fowner=1", 1, 28, "fsmagic= is not allowed with func=CRITICAL_DATA"),
                Arguments.of("measure func=KEY_CHECK subj_role=x", 1, 24, "subj_role= (an LSM condition) is not allowed with func=KEY_CHECK"),
                Arguments.of("measure func=MODULE_CHECK digest_type=verity", 1, 27, "digest_type=verity is not allowed with func=MODULE_CHECK"),
                Arguments.of("measure func=SETXATTR_CHECK", 1, 1, "func=SETXATTR_CHECK only allows the appraise action"),
                Arguments.of("appraise func=SETXATTR_CHECK", 1, 10, "func=SETXATTR_CHECK requires appraise_algos="),
                Arguments.of("appraise func=SETXATTR_CHECK appraise_algos=sha256 fowner=0", 1, 52,
                        "fowner is not allowed with func=SETXATTR_CHECK"),
                Arguments.of("appraise func=FILE_CHECK digest_type=verity", 1, 26,
                        "appraise with digest_type=verity requires appraise_type=sigv3"),
                // whole-text rules
                Arguments.of("", 1, 1, "the kernel rejects an empty policy"),
                Arguments.of("# c\n   \n", 1, 1, "the kernel rejects an empty policy"),
                Arguments.of("measure\n/etc/ima/policy\n", 2, 1, "load a policy file by that path"),
                Arguments.of("measure fsname=a\0b", 1, 17, "NUL byte"),
                Arguments.of("measure fsname=" + "x".repeat(5000), 1, 4096, "rule longer than 4095 bytes"),
                Arguments.of("measure\n\nmeasure func=BOGUS", 3, 9, "unknown func \"BOGUS\""));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rejected")
    void rejectsWithLineColumnAndReason(String text, int line, int column, String reason) {
        PolicyException e = catchThrowableOfType(PolicyException.class, () -> PolicyParser.parse(text));
        assertThat(e).as("should be rejected: %s", text).isNotNull();
        assertThat(e.errors()).hasSize(1);
        PolicyError err = e.errors().getFirst();
        assertThat(err.reason()).contains(reason);
        assertThat(err.line()).as("line of %s", err).isEqualTo(line);
        assertThat(err.column()).as("column of %s", err).isEqualTo(column);
    }

    @Test
    void reportsEveryBadRuleNotJustTheFirst() {
        String text = "measure func=BOGUS\nmeasure\n\tappraise pcr=1\n# fine\nmeasure uid=x\n";
        PolicyException e = catchThrowableOfType(PolicyException.class, () -> PolicyParser.parse(text));
        assertThat(e.errors()).extracting(PolicyError::line).containsExactly(1, 3, 5);
        assertThat(e.errors()).extracting(PolicyError::column).containsExactly(9, 11, 9);
        assertThat(e.getMessage()).startsWith("1:9: unknown func \"BOGUS\"").endsWith("(and 2 more)");
    }

    @Test
    void ruleFieldsAndSourceLineAreKept() throws PolicyException {
        Policy p = PolicyParser.parse("# c\nappraise func=BPRM_CHECK mask=^MAY_EXEC fsmagic=0xef53 fsuuid="
                + "6a2ec3e7-f8dc-4e9b-9d3c-e1d1f5b4f8a1 euid>99 egid<7 fowner=1 fgroup=2 appraise_algos=sha256,sha512 "
                + "appraise_type=imasig permit_directio fsname=ext4");
        Rule r = p.rules().getFirst();
        assertThat(r.line()).isEqualTo(2);
        assertThat(r.action()).isEqualTo(Action.APPRAISE);
        assertThat(r.func()).isEqualTo(Func.BPRM_CHECK);
        assertThat(r.mask()).isEqualTo(new MaskCondition(Mask.MAY_EXEC, true));
        assertThat(r.fsMagic()).isEqualTo(0xef53L);
        assertThat(r.fsName()).isEqualTo("ext4");
        assertThat(r.fsUuid()).isEqualTo(UUID.fromString("6a2ec3e7-f8dc-4e9b-9d3c-e1d1f5b4f8a1"));
        assertThat(r.uid()).isEqualTo(new IdCondition(IdKind.EUID, IdOp.GT, 99));
        assertThat(r.gid()).isEqualTo(new IdCondition(IdKind.EGID, IdOp.LT, 7));
        assertThat(r.fowner()).isEqualTo(new IdCondition(IdKind.FOWNER, IdOp.EQ, 1));
        assertThat(r.fgroup()).isEqualTo(new IdCondition(IdKind.FGROUP, IdOp.EQ, 2));
        assertThat(r.appraiseAlgos()).containsExactly(HashAlgo.SHA256, HashAlgo.SHA512);
        assertThat(r.digsigRequired()).isTrue();
        assertThat(r.permitDirectio()).isTrue();
        assertThat(r.origin().column("func")).isEqualTo(10);
        assertThat(r.origin().column(Origin.ACTION)).isEqualTo(1);
    }

    @Test
    void appendKeepsBothInOrder() throws PolicyException {
        Policy a = PolicyParser.parse("measure func=BPRM_CHECK");
        Policy b = PolicyParser.parse("appraise fowner=0");
        Policy both = a.append(b);
        assertThat(both.show()).isEqualTo("measure func=BPRM_CHECK \nappraise fowner=0 \n");
        assertThat(a.rules()).hasSize(1);
        assertThat(both.rules()).containsExactly(a.rules().getFirst(), b.rules().getFirst());
        assertThat(both.rules()).isUnmodifiable();
    }

    @Test
    void tokenTableDrivesBothWays() {
        for (Token t : Token.values()) {
            String word = t.format("v");
            assertThat(Token.match(word)).as(word).contains(new Token.Match(t, t.takesValue() ? "v" : ""));
        }
        assertThat(Token.UID_GT.key()).isEqualTo("uid");
        assertThat(Token.PERMIT_DIRECTIO.key()).isEqualTo("permit_directio");
        assertThat(Token.match("func=")).isEmpty();
    }

    @Test
    void funcNumbersAndAliasesAreTheKernels() {
        assertThat(Func.FILE_CHECK.number()).isEqualTo(1);
        assertThat(Func.MMAP_CHECK_REQPROT.number()).isEqualTo(3);
        assertThat(Func.POST_SETATTR.number()).isEqualTo(6);
        assertThat(Func.SETXATTR_CHECK.number()).isEqualTo(15);
        assertThat(Func.byPolicyName("PATH_CHECK")).contains(Func.FILE_CHECK);
        assertThat(Func.byPolicyName("FILE_MMAP")).contains(Func.MMAP_CHECK);
        assertThat(Func.byPolicyName("POST_SETATTR")).isEmpty();
        assertThat(List.of(Mask.values())).extracting(Mask::bit).containsExactly(1, 2, 4, 8);
        assertThat(EnumSet.allOf(Action.class)).extracting(Action::bit)
                .containsExactly(0x1, 0x2, 0x4, 0x8, 0x40, 0x100, 0x200);
    }
}
