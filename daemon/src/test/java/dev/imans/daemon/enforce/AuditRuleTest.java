package dev.imans.daemon.enforce;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imans.audit.AuditMeasurementRecord;
import dev.imans.audit.AuditRecordParser;
import dev.imans.ns.AppraiseSetting;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@code audit} rules: one type 1805 record per file version and scope, with the opener's task fields. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class AuditRuleTest {
    private DaemonFixture daemon;

    @AfterEach
    void stop() throws Exception {
        if (daemon != null) {
            daemon.close();
        }
    }

    private List<AuditMeasurementRecord> auditRecords() throws Exception {
        return daemon.auditLines().stream().filter(l -> l.startsWith("type=1805 audit(") && l.contains(" file="))
                .map(l -> (AuditMeasurementRecord) AuditRecordParser.parse(l).toRecord()).toList();
    }

    private static String sha256(String text) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes()));
    }

    @Test
    void anAuditRuleWritesOneRecordPerFileVersionWithTheOpenersTaskFields() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Namespace ns = daemon.namespace("audit fsmagic=0x01021994\n");
        ns.shOk("echo hello > /tmp/f");
        assertThat(ns.shOk("cat /tmp/f; cat /tmp/f; cat /tmp/f").out()).isEqualTo("hello\nhello\nhello\n");
        List<AuditMeasurementRecord> records = auditRecords();
        // The shell's creating open audits the empty file (its digest then), cat the written version once.
        assertThat(records).hasSize(2);
        assertThat(HexFormat.of().formatHex(records.getFirst().hash().digest())).isEqualTo(sha256(""));
        assertThat(records.getFirst().task().comm()).isEqualTo(dev.imans.audit.UntrustedString.of("sh"));
        AuditMeasurementRecord r = records.get(1);
        assertThat(r.file()).isEqualTo(dev.imans.audit.UntrustedString.of("/tmp/f"));
        assertThat(r.hash().algo().kernelName()).isEqualTo("sha256");
        assertThat(HexFormat.of().formatHex(r.hash().digest())).isEqualTo(sha256("hello\n"));
        assertThat(r.mntNs().getAsLong()).isEqualTo(ns.nsid);
        assertThat(r.task().comm()).isEqualTo(dev.imans.audit.UntrustedString.of("cat"));
        assertThat(new String(r.task().exe().orElseThrow().bytes())).endsWith("cat");
        assertThat(r.task().uid()).isZero();
        assertThat(r.task().tty()).isEqualTo("(none)");
        String line = daemon.auditLines().stream().filter(l -> l.startsWith("type=1805 audit(") && l.contains(" file="))
                .toList().get(1);
        assertThat(line).contains(" hash=\"sha256:" + sha256("hello\n") + "\" mnt_ns=" + ns.nsid + " dev=\"tmpfs\"")
                .contains(" ppid=").contains(" comm=\"cat\"");

        // A new version of the file is audited again; the same version is not.
        ns.shOk("echo changed > /tmp/f");
        ns.shOk("cat /tmp/f; cat /tmp/f");
        records = auditRecords();
        assertThat(records).hasSize(3);
        assertThat(HexFormat.of().formatHex(records.get(2).hash().digest())).isEqualTo(sha256("changed\n"));
    }

    /**
     * ima_audit_measurement (ima_api.c) prints {@code iint->ima_hash}, the digest process_measurement
     * collected in ima_get_hash_algo's algorithm: security.ima is read since the default template is not
     * "ima", so a label in sha512 or sha1 gives a record in that algorithm, right or wrong.
     */
    @Test
    void theRecordsDigestIsInTheAlgorithmTheLabelNames() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Namespace ns = daemon.fresh();
        ns.shOk("echo five > /tmp/s5 && setfattr -n security.ima -v 0x0406" + "00".repeat(64) + " /tmp/s5"
                + " && echo one > /tmp/s1 && setfattr -n security.ima -v 0x01$(sha1sum /tmp/s1 | cut -c1-40) /tmp/s1"
                + " && echo none > /tmp/s0");
        daemon.register(ns);
        daemon.policy(ns, "audit fsmagic=0x01021994\n");
        ns.shOk("cat /tmp/s5 /tmp/s1 /tmp/s0");
        List<AuditMeasurementRecord> records = auditRecords();
        assertThat(records).extracting(r -> new String(r.file().bytes()) + " " + r.hash().algo().kernelName() + ":"
                + HexFormat.of().formatHex(r.hash().digest())).containsExactly(
                "/tmp/s5 sha512:" + hex("SHA-512", "five\n"),
                "/tmp/s1 sha1:" + hex("SHA-1", "one\n"),
                "/tmp/s0 sha256:" + sha256("none\n"));
    }

    private static String hex(String algo, String text) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance(algo).digest(text.getBytes()));
    }

    @Test
    void aFileNoAuditRuleCoversWritesNoRecord() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Namespace ns = daemon.namespace("audit func=BPRM_CHECK\n");
        ns.shOk("echo hello > /tmp/f; cat /tmp/f");
        assertThat(auditRecords()).isEmpty();
    }
}
