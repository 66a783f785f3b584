package dev.imans.linux;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The active LSMs from lsm_list_modules(2), checked against securityfs's own list. */
class LsmsTest {
    @Test
    void theSyscallNamesWhatSecurityfsLists() throws Exception {
        List<String> listed = Lsms.listModules().orElseThrow();
        assertThat(listed).contains("capability");
        // securityfs is read in a private mount namespace, so the host's mounts do not change.
        Process p = new ProcessBuilder("unshare", "-m", "--propagation", "private", "sh", "-c",
                "mount -t securityfs securityfs /sys/kernel/security 2>/dev/null; cat /sys/kernel/security/lsm")
                .start();
        String lsm = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).strip();
        assertThat(p.waitFor()).isZero();
        assertThat(String.join(",", listed)).isEqualTo(lsm);
        assertThat(Lsms.active()).contains(listed);
    }
}
