package dev.imans.daemon.enforce;

import static dev.imans.daemon.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import dev.imans.daemon.fanotify.EngineMetrics;
import dev.imans.ns.AppraiseSetting;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A change of owner, group or label clears no ignore mark in the kernel, yet changes what the policy
 * says of the file: kernel IMA judges it again, and so must the daemon (real chown, setfattr, cat).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class AttributeChangeTest {
    private static final String HELLO_SHA256 = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";

    private DaemonFixture daemon;

    @AfterEach
    void tearDown() throws Exception {
        if (daemon != null) {
            daemon.close();
        }
    }

    private static void assertDenied(Run.Result r) {
        assertThat(r.exit()).as(r.toString()).isNotZero();
        assertThat(r.err()).contains("Operation not permitted");
    }

    private EngineMetrics engine() {
        return daemon.enforcement().engine().metrics();
    }

    private List<String> causes() throws Exception {
        return daemon.appraisalRecords().stream().map(r -> r.value("cause").orElseThrow()).toList();
    }

    @Test
    void aFileChownedIntoThePolicysReachIsJudgedAtItsNextOpen() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Namespace ns = daemon.namespace("appraise fsmagic=0x01021994 fowner=0\n");
        ns.shOk("echo plain > /tmp/f && chown 4242 /tmp/f");
        assertThat(ns.shOk("cat /tmp/f").out()).isEqualTo("plain\n");
        eventually(() -> assertThat(engine().ignoreMarksAdded()).isPositive());
        long events = engine().events();
        assertThat(ns.shOk("cat /tmp/f").out()).isEqualTo("plain\n");
        assertThat(engine().events()).as("not covered: ignore-marked").isEqualTo(events);

        ns.shOk("chown 0 /tmp/f");
        eventually(() -> assertDenied(ns.sh("cat /tmp/f")));
        assertThat(causes()).containsExactly("missing-hash");
        assertThat(engine().attributeChanges()).isPositive();
    }

    @Test
    void aPassingFileWhoseLabelIsReplacedIsJudgedAtItsNextOpen() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Namespace ns = daemon.namespace("appraise fsmagic=0x01021994\n");
        ns.shOk("echo hello > /tmp/g && setfattr -n security.ima -v 0x0404" + HELLO_SHA256 + " /tmp/g");
        assertThat(ns.shOk("cat /tmp/g").out()).isEqualTo("hello\n");
        eventually(() -> assertThat(engine().ignoreMarksAdded()).isPositive());

        ns.shOk("setfattr -n security.ima -v 0x0404" + "00".repeat(32) + " /tmp/g");
        eventually(() -> assertDenied(ns.sh("cat /tmp/g")));
        assertThat(causes()).containsExactly("invalid-hash");
        // Other marks stay: the change was the one file's, reached by its handle.
        assertThat(engine().attributeFlushes()).isZero();
    }

    @Test
    void aChmodOfAnIgnoreMarkedFileDropsOnlyItsMark() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Namespace ns = daemon.namespace("appraise fsmagic=0x01021994\n");
        ns.shOk("for f in a b; do echo hello > /tmp/$f && setfattr -n security.ima -v 0x0404" + HELLO_SHA256
                + " /tmp/$f; done");
        assertThat(ns.shOk("cat /tmp/a /tmp/b").out()).isEqualTo("hello\nhello\n");
        eventually(() -> assertThat(engine().ignoreMarksAdded()).isGreaterThanOrEqualTo(2));
        ns.shOk("chmod 600 /tmp/a");
        eventually(() -> assertThat(engine().attributeChanges()).isPositive());
        long events = engine().events();
        assertThat(ns.shOk("cat /tmp/b").out()).isEqualTo("hello\n");
        assertThat(engine().events()).as("b keeps its mark").isEqualTo(events);
        assertThat(ns.shOk("cat /tmp/a").out()).isEqualTo("hello\n");
        assertThat(engine().events()).as("a is judged again " + engine().snapshot()).isEqualTo(events + 1);
    }
}
