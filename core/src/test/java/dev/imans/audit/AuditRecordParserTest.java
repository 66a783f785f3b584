package dev.imans.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Optional;
import java.util.OptionalLong;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class AuditRecordParserTest {
    private static final String SEED_LINE = "[ 3233.681544] audit: type=1800 audit(1495131746.610:29): pid=384 uid=0 "
            + "auid=4294967295 ses=4294967295 op=\"appraise_data\" cause=\"invalid-hash\" comm=\"cat\" "
            + "name=\"/tmp/foo\" mnt_ns=4026532208 dev=\"tmpfs\" ino=13105 res=0";

    @Test
    void readsTheSeedRecordFieldByField() {
        ParsedRecord p = AuditRecordParser.parse(SEED_LINE);
        assertThat(p.type()).contains(AuditType.INTEGRITY_DATA);
        assertThat(p.stamp()).contains(AuditStamp.of(1495131746610L, 29));
        assertThat(p.value("op")).contains("appraise_data");
        assertThat(p.value("cause")).contains("invalid-hash");
        assertThat(p.value("name")).contains("/tmp/foo");
        assertThat(p.value("mnt_ns")).contains("4026532208");
        assertThat(p.value("errno")).isEmpty();
        assertThat(p.fields()).extracting(AuditField::key).containsExactly(
                "pid", "uid", "auid", "ses", "op", "cause", "comm", "name", "mnt_ns", "dev", "ino", "res");

        IntegrityRecord r = (IntegrityRecord) p.toRecord();
        assertThat(r).isEqualTo(IntegrityRecord.appraiseData(Subject.of(384, 0, Subject.UNSET, Subject.UNSET, "cat"),
                "invalid-hash", UntrustedString.of("/tmp/foo"), OptionalLong.of(4026532208L), InodeRef.of("tmpfs", 13105), false));
    }

    @Test
    void decodesHexValues() {
        String line = "type=1800 audit(1.000:1): pid=1 uid=0 auid=0 ses=1 op=appraise_data cause=missing-hash "
                + "comm=6D7920636174 name=2F746D702F636166C3A9 dev=\"tmpfs\" ino=3 res=0 errno=0";
        ParsedRecord p = AuditRecordParser.parse(line);
        assertThat(p.value("comm")).contains("my cat");
        assertThat(p.value("name")).contains("/tmp/caf\u00e9");
        assertThat(p.field("name").orElseThrow().written()).isEqualTo("2F746D702F636166C3A9");
    }

    @Test
    void acceptsAuditdLogLines() {
        ParsedRecord p = AuditRecordParser.parse("type=INTEGRITY_POLICY_RULE msg=audit(1795923977.512:2): "
                + "action=measure func=FILE_CHECK mask=MAY_READ res=1");
        assertThat(p.type()).contains(AuditType.INTEGRITY_POLICY_RULE);
        assertThat(p.toRecord()).isEqualTo(RuleRecord.of(true, "action=measure", "func=FILE_CHECK", "mask=MAY_READ"));
    }

    @Test
    void seedRuleRecordValuesAreDecoded() {
        ParsedRecord p = AuditRecordParser.parse("type=1805 audit(1.000:2): action=\"measure\" func=46494C455F434845434B0D "
                + "uid<\"1000\" res=0");
        assertThat(p.value("func")).contains("FILE_CHECK\r");
        assertThat(p.toRecord()).isEqualTo(RuleRecord.of(false, "action=measure", "func=FILE_CHECK\r", "uid<1000"));
    }

    @Test
    void unquotedCauseWithSpacesIsOneValue() {
        ParsedRecord p = AuditRecordParser.parse("type=1802 audit(1.000:2): pid=1 uid=0 auid=0 ses=1 subj=unconfined "
                + "op=policy_update cause=signed policy required comm=\"sh\" res=1 errno=0");
        assertThat(p.value("cause")).contains("signed policy required");
        assertThat(((StatusRecord) p.toRecord()).cause()).isEqualTo("signed policy required");
    }

    static Stream<Arguments> seeds() {
        return LongStream.range(0, 200).boxed().flatMap(seed -> Stream.of(
                Arguments.of(seed, AuditFormat.SEED), Arguments.of(seed, AuditFormat.CURRENT)));
    }

    /** Random records: encode, parse, the same record; also through the kmsg escaping. */
    @ParameterizedTest(name = "seed {0} {1}")
    @MethodSource("seeds")
    void roundTrip(long seed, AuditFormat format) {
        RandomRecords random = new RandomRecords(seed * 7919 + format.ordinal(), format);
        AuditEncoder encoder = AuditEncoder.of(format);
        for (int i = 0; i < 5; i++) {
            AuditRecord record = random.next();
            AuditStamp stamp = AuditStamp.of(seed * 1_000_003L + i, seed + i);
            String line = encoder.line(stamp, record);

            ParsedRecord parsed = AuditRecordParser.parse(line);
            assertThat(parsed.stamp()).contains(stamp);
            assertThat(parsed.typeNumber()).isEqualTo(encoder.type(record).number());
            assertThat(parsed.toRecord()).as(line).isEqualTo(record);
            assertThat(AuditRecordParser.parseKmsg(KmsgText.escape(encoder.kmsgLine(stamp, record))).toRecord())
                    .isEqualTo(record);
        }
    }

    @Test
    void badInputGetsAClearError() {
        assertThatThrownBy(() -> AuditRecordParser.parse("hello")).isInstanceOf(AuditParseException.class)
                .hasMessageContaining("type=");
        assertThatThrownBy(() -> AuditRecordParser.parse("type=1800 audit(1.5:2): pid=1"))
                .isInstanceOf(AuditParseException.class).hasMessageContaining("SECONDS.MMM:SERIAL");
        assertThatThrownBy(() -> AuditRecordParser.parseRecord("type=1800 audit(1.000:2): pid=1 uid=0 auid=0 ses=1 op=x res=1"))
                .isInstanceOf(AuditParseException.class).hasMessageContaining("expected cause= but found res=");
        assertThatThrownBy(() -> AuditRecordParser.parseRecord("type=1800 audit(1.000:2): pid=1 uid=-1 auid=0 ses=1"))
                .isInstanceOf(AuditParseException.class).hasMessageContaining("uid= must be an unsigned 32-bit number");
        assertThatThrownBy(() -> AuditRecordParser.parseRecord("type=1800 audit(1.000:2): pid=1 uid=0 auid=0 ses=1 "
                + "op=a cause=b comm=\"c\" res=2")).hasMessageContaining("res= must be 0 or 1");
        assertThatThrownBy(() -> AuditRecordParser.parseRecord("type=1800 audit(1.000:2): pid=1 uid=0 auid=0 ses=1 "
                + "op=a cause=b comm=XYZ res=1")).hasMessageContaining("comm= must be a quoted string or hex");
        assertThatThrownBy(() -> AuditRecordParser.parse("type=1800 audit(1.000:2): name=\"abc"))
                .hasMessageContaining("unterminated quote");
        assertThatThrownBy(() -> AuditRecordParser.parseRecord("type=1300 audit(1.000:2): arch=c000003e"))
                .hasMessageContaining("not an integrity audit record");
        assertThatThrownBy(() -> AuditRecordParser.parseRecord("type=1807 audit(1.000:2): action=measure"))
                .hasMessageContaining("ends with res=");
        assertThatThrownBy(() -> AuditRecordParser.parseKmsg("audit: type=1807 audit(...): a=\\q res=1"))
                .hasMessageContaining("bad /dev/kmsg escape");
        assertThatThrownBy(() -> AuditRecordParser.parseRecord("type=1800 audit(1.000:2): pid=1 uid=0 auid=0 ses=1 "
                + "op=a cause=b comm=\"c\" res=1 errno=0 extra=1")).hasMessageContaining("unexpected extra=");
    }

    @Test
    void bodyWithoutHeader() {
        ParsedRecord p = AuditRecordParser.parseBody(AuditType.INTEGRITY_PCR, "pid=97 uid=0 auid=4294967295 "
                + "ses=4294967295 subj=unconfined op=invalid_pcr cause=open_writers comm=\"cat\" name=\"/data/w\" "
                + "dev=\"tmpfs\" ino=8 res=1 errno=0");
        assertThat(p.stamp()).isEmpty();
        PcrRecord r = (PcrRecord) p.toRecord();
        assertThat(r.operation()).isEqualTo(PcrRecord.Op.INVALID_PCR);
        assertThat(r.cause()).isEqualTo("open_writers");
        assertThat(r.inode()).contains(InodeRef.of("tmpfs", 8));
        assertThat(r.subject().subj()).isEqualTo(Optional.of("unconfined"));
    }

    @Test
    void kmsgEscapesBackslashAndControlBytes() {
        assertThat(KmsgText.escape("a\\b\rc\u00e9")).isEqualTo("a\\x5cb\\x0dc\\xc3\\xa9");
        assertThat(KmsgText.unescape("a\\x5cb\\x0dc\\xc3\\xa9")).isEqualTo("a\\b\rc\u00e9");
    }
}
