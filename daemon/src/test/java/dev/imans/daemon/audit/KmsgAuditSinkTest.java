package dev.imans.daemon.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The kernel log sink against the real /dev/kmsg (root), read back with dmesg. */
class KmsgAuditSinkTest {
    @Test
    void aRecordBecomesOneKernelLogLineAsKauditdPrintsIt() throws Exception {
        String marker = "imans-test-" + UUID.randomUUID();
        String record = "type=1800 audit(1795929859.505:2): pid=1 uid=0 auid=4294967295 ses=4294967295"
                + " op=\"appraise_data\" cause=\"invalid-hash\" comm=\"" + marker + "\" res=0";
        try (KmsgAuditSink sink = KmsgAuditSink.open()) {
            sink.write(record);
        }
        Process dmesg = new ProcessBuilder("dmesg").redirectErrorStream(true).start();
        List<String> lines = new String(dmesg.getInputStream().readAllBytes(), StandardCharsets.UTF_8)
                .lines().filter(l -> l.contains(marker)).toList();
        assertThat(dmesg.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(lines).hasSize(1);
        assertThat(lines.get(0)).matches("\\[ *[0-9.]+\\] audit: " + java.util.regex.Pattern.quote(record));
    }
}
