package dev.imans.audit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imans.crypto.HashAlgo;
import java.util.HexFormat;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class AuditEncoderTest {
    private static final long UNSET = Subject.UNSET;
    private static final AuditEncoder SEED = AuditEncoder.of(AuditFormat.SEED);
    private static final AuditEncoder CURRENT = AuditEncoder.of(AuditFormat.CURRENT);

    /** The seed's record, from its facts (ima-namespace-README, LinuxKit 2017, kernel 4.11 + patches). */
    @Test
    void reproducesTheSeedRecord() {
        IntegrityRecord r = IntegrityRecord.appraiseData(Subject.of(384, 0, UNSET, UNSET, "cat"), "invalid-hash",
                UntrustedString.of("/tmp/foo"), OptionalLong.of(4026532208L), InodeRef.of("tmpfs", 13105), false);
        AuditStamp stamp = AuditStamp.of(1495131746610L, 29);

        assertThat(AuditEncoder.DEFAULT.kmsgLine(stamp, r)).isEqualTo(
                "audit: type=1800 audit(1495131746.610:29): pid=384 uid=0 auid=4294967295 ses=4294967295 "
                        + "op=\"appraise_data\" cause=\"invalid-hash\" comm=\"cat\" name=\"/tmp/foo\" "
                        + "mnt_ns=4026532208 dev=\"tmpfs\" ino=13105 res=0");
        assertThat(AuditEncoder.DEFAULT).isEqualTo(SEED);
    }

    @Test
    void currentFormatOfTheSeedRecordKeepsMntNsUnlessTurnedOff() {
        IntegrityRecord r = IntegrityRecord.appraiseData(Subject.of(384, 0, UNSET, UNSET, "cat"), "invalid-hash",
                UntrustedString.of("/tmp/foo"), OptionalLong.of(4026532208L), InodeRef.of("tmpfs", 13105), false);
        assertThat(CURRENT.body(r)).isEqualTo("pid=384 uid=0 auid=4294967295 ses=4294967295 op=appraise_data "
                + "cause=invalid-hash comm=\"cat\" name=\"/tmp/foo\" mnt_ns=4026532208 dev=\"tmpfs\" ino=13105 res=0 errno=0");
        assertThat(new AuditEncoder(AuditFormat.CURRENT, false).body(r)).isEqualTo("pid=384 uid=0 auid=4294967295 "
                + "ses=4294967295 op=appraise_data cause=invalid-hash comm=\"cat\" name=\"/tmp/foo\" dev=\"tmpfs\" "
                + "ino=13105 res=0 errno=0");
        assertThat(new AuditEncoder(AuditFormat.SEED, false).body(r)).doesNotContain("mnt_ns");
    }

    /** Records of Debian's 6.1 kernel (spec/kernel-captures), rebuilt from their facts. */
    @Test
    void reproducesCapturedKernelRecordsFromTheirFacts() {
        Subject sh = Subject.of(86, 0, UNSET, UNSET, "sh").withSubj("unconfined");
        Subject cat = new Subject(119, 0, UNSET, UNSET, Optional.of("unconfined"), UntrustedString.of("cat"));

        assertThat(CURRENT.kmsgLine(AuditStamp.of(1795923995432L, 12), IntegrityRecord.appraiseData(cat,
                "invalid-hash", UntrustedString.of("/tmp/foo-tamper"), OptionalLong.empty(), InodeRef.of("tmpfs", 6), false)))
                .isEqualTo("audit: type=1800 audit(1795923995.432:12): pid=119 uid=0 auid=4294967295 ses=4294967295 "
                        + "subj=unconfined op=appraise_data cause=invalid-hash comm=\"cat\" name=\"/tmp/foo-tamper\" "
                        + "dev=\"tmpfs\" ino=6 res=0 errno=0");
        assertThat(CURRENT.line(AuditStamp.of(1795923995316L, 4), StatusRecord.policyUpdate(sh, true)))
                .isEqualTo("type=1802 audit(1795923995.316:4): pid=86 uid=0 auid=4294967295 ses=4294967295 "
                        + "subj=unconfined op=policy_update cause=completed comm=\"sh\" res=1 errno=0");
        assertThat(CURRENT.line(AuditStamp.of(1795923977564L, 5), PcrRecord.invalidPcr(sh, "ToMToU",
                UntrustedString.of("/data/t"), OptionalLong.empty(), InodeRef.of("tmpfs", 9))))
                .isEqualTo("type=1804 audit(1795923977.564:5): pid=86 uid=0 auid=4294967295 ses=4294967295 "
                        + "subj=unconfined op=invalid_pcr cause=ToMToU comm=\"sh\" name=\"/data/t\" dev=\"tmpfs\" "
                        + "ino=9 res=1 errno=0");
        assertThat(CURRENT.line(AuditStamp.of(1795923995312L, 2),
                RuleRecord.of(true, "action=appraise", "fsmagic=0x01021994", "fowner=71452")))
                .isEqualTo("type=1807 audit(1795923995.312:2): action=appraise fsmagic=0x01021994 fowner=71452 res=1");
        assertThat(Fixtures.kernelRecords()).contains(
                "[    2.503171] audit: type=1800 audit(1795923995.432:12): pid=119 uid=0 auid=4294967295 ses=4294967295 "
                        + "subj=unconfined op=appraise_data cause=invalid-hash comm=\"cat\" name=\"/tmp/foo-tamper\" "
                        + "dev=\"tmpfs\" ino=6 res=0 errno=0");
    }

    static java.util.List<String> kernelRecords() {
        return Fixtures.kernelRecords();
    }

    /** Every captured 6.1 record: read it, write it again in the current format, same text. */
    @ParameterizedTest
    @MethodSource("kernelRecords")
    void rewritesEveryCapturedRecordIdentically(String captured) {
        ParsedRecord parsed = AuditRecordParser.parseKmsg(captured);
        AuditRecord record = parsed.toRecord();
        String expected = Fixtures.withoutKmsgPrefix(captured);
        assertThat(CURRENT.line(parsed.stamp().orElseThrow(), record)).isEqualTo(expected);
    }

    @Test
    void policyRulesInTheSeedFormatAreType1805WithUntrustedValues() {
        RuleRecord r = RuleRecord.of(true, "action=appraise", "fsmagic=0x01021994", "fowner>71452");
        assertThat(SEED.type(r)).isEqualTo(AuditType.INTEGRITY_RULE);
        assertThat(SEED.line(AuditStamp.of(1495131700000L, 3), r)).isEqualTo(
                "type=1805 audit(1495131700.000:3): action=\"appraise\" fsmagic=\"0x01021994\" fowner>\"71452\" res=1");
        RuleRecord odd = RuleRecord.of(false, "action=measure", "func=FILE_CHECK\r");
        assertThat(SEED.body(odd)).isEqualTo("action=\"measure\" func=46494C455F434845434B0D res=0");
        assertThat(CURRENT.body(odd)).isEqualTo("action=measure func=FILE_CHECK\r res=0");
    }

    @Test
    void statusRecordsInTheSeedFormatQuoteOpAndCauseAndHaveNoErrno() {
        Subject s = Subject.of(1, 0, UNSET, UNSET, "sh");
        assertThat(SEED.body(new StatusRecord(s, StatusRecord.Op.POLICY_UPDATE, "signed policy required", true, 0)))
                .isEqualTo("pid=1 uid=0 auid=4294967295 ses=4294967295 op=\"policy_update\" "
                        + "cause=\"signed policy required\" comm=\"sh\" res=1");
        assertThat(CURRENT.body(new StatusRecord(s, StatusRecord.Op.POLICY_UPDATE, "signed policy required", true, 0)))
                .isEqualTo("pid=1 uid=0 auid=4294967295 ses=4294967295 op=policy_update "
                        + "cause=signed policy required comm=\"sh\" res=1 errno=0");
    }

    @Test
    void auditActionRecord() {
        byte[] digest = HexFormat.of().parseHex("5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03");
        TaskInfo task = new TaskInfo(86, 119, UNSET, 0, 0, 0, 0, 0, 0, 0, 0, TaskInfo.NO_TTY, UNSET,
                UntrustedString.of("cat"), Optional.of(UntrustedString.of("/bin/busybox")), Optional.empty());
        AuditMeasurementRecord r = new AuditMeasurementRecord(UntrustedString.of("/tmp/my file"),
                new FileHash(HashAlgo.SHA256, digest), OptionalLong.of(4026532208L),
                Optional.of(InodeRef.of("tmpfs", 13105)), task);

        String tail = " ppid=86 pid=119 auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 "
                + "tty=(none) ses=4294967295 comm=\"cat\" exe=\"/bin/busybox\"";
        String head = "file=2F746D702F6D792066696C65 "
                + "hash=\"sha256:5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03\"";
        assertThat(SEED.type(r)).isEqualTo(AuditType.INTEGRITY_RULE);
        assertThat(SEED.body(r)).isEqualTo(head + " mnt_ns=4026532208 dev=\"tmpfs\" ino=13105" + tail);
        assertThat(new AuditEncoder(AuditFormat.CURRENT, false).body(r)).isEqualTo(head + tail);

        TaskInfo kernelThread = new TaskInfo(2, 50, UNSET, 0, 0, 0, 0, 0, 0, 0, 0, "pts0", UNSET,
                UntrustedString.of("kworker"), Optional.empty(), Optional.of("system_u:system_r:kernel_t:s0"));
        AuditMeasurementRecord k = new AuditMeasurementRecord(UntrustedString.of("/x"), new FileHash(HashAlgo.SHA256, digest),
                OptionalLong.empty(), Optional.empty(), kernelThread);
        assertThat(CURRENT.body(k)).endsWith(" tty=pts0 ses=4294967295 comm=\"kworker\" exe=(null) subj=system_u:system_r:kernel_t:s0");
    }

    @Test
    void headerHasThreeDigitMillisAndUnsignedSerial() {
        assertThat(AuditStamp.of(5L, 4294967295L).text()).isEqualTo("audit(0.005:4294967295)");
        assertThat(AuditStamp.of(1495131746610L, 29).text()).isEqualTo("audit(1495131746.610:29)");
        assertThat(AuditStamp.parse("1495131746.610:29")).isEqualTo(AuditStamp.of(1495131746610L, 29));
    }

    @Test
    void serialIsAPureIncrementThatWraps() {
        assertThat(AuditSerial.FIRST.value()).isEqualTo(1);
        assertThat(AuditSerial.FIRST.next().value()).isEqualTo(2);
        assertThat(new AuditSerial(4294967295L).next().value()).isZero();
    }
}
