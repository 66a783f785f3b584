package dev.imans.daemon.enforce;

import static dev.imans.daemon.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.imans.audit.AuditFormat;
import dev.imans.daemon.health.Condition;
import dev.imans.daemon.metrics.Scrape;
import dev.imans.ns.AppraiseSetting;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code .imans/metrics} of a real enforcing daemon, read through its control filesystem while real
 * processes in a real namespace are allowed and denied, parsed as the Prometheus text format.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class MetricsTest {
    private static final String HELLO_SHA256 = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";

    private DaemonFixture daemon;
    private Path state;

    @AfterEach
    void tearDown() throws Exception {
        if (daemon == null) {
            return;
        }
        if (state != null) {
            // Stop first, so nothing writes there any more; the fixture then removes an empty directory.
            daemon.daemon.close();
            Run.run("umount", "-l", state.toString());
        }
        daemon.close();
    }

    private Scrape scrape() throws IOException {
        return Scrape.parse(Files.readString(daemon.control.resolve(".imans/metrics")));
    }

    @Test
    void countersFollowAllowedAndDeniedOpensAndTheRegistry() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Scrape before = scrape();
        assertThat(before.type("imans_permission_events_total")).isEqualTo("counter");
        assertThat(before.type("imans_decision_latency_seconds")).isEqualTo("histogram");
        assertThat(before.type("imans_namespaces_registered")).isEqualTo("gauge");
        assertThat(before.help("imans_permission_denials_total")).contains("audit cause");
        assertThat(before.help("imans_allowed_for_every_opener_total")).contains("without looking up the opener");
        assertThat(before.count("imans_enforcement_enabled")).isEqualTo(1);
        assertThat(before.count("imans_namespaces_registered")).isZero();
        assertThat(before.count("imans_policy_rules{scope=\"host\"}")).isZero();
        assertThat(before.count("imans_healthy")).isEqualTo(1);
        for (Condition c : Condition.values()) {
            assertThat(before.count("imans_health_condition{condition=\"" + c.label() + "\"}")).isZero();
        }
        assertThat(before.count("imans_permission_denials_total{cause=\"missing-hash\"}")).isZero();

        Namespace ns = daemon.namespace("measure fsmagic=0x01021994\nappraise fsmagic=0x01021994\n");
        String scope = "{scope=\"" + ns.nsid + "\"}";
        Scrape registered = scrape();
        assertThat(registered.count("imans_namespaces_registered")).isEqualTo(1);
        assertThat(registered.count("imans_policy_rules" + scope)).isEqualTo(2);
        assertThat(registered.count("imans_filesystems_marked{engine=\"filesystems\"}")).isPositive();
        long entries = registered.count("imans_measurement_entries" + scope);

        ns.shOk("echo hello > /tmp/ok && setfattr -n security.ima -v 0x0404" + HELLO_SHA256 + " /tmp/ok");
        ns.shOk("echo hello > /tmp/unlabelled");
        ns.shOk("echo hello > /tmp/tampered && setfattr -n security.ima -v 0x0404" + "00".repeat(32)
                + " /tmp/tampered");
        Scrape idle = scrape();
        assertThat(ns.sh("cat /tmp/ok").out()).isEqualTo("hello\n");
        assertThat(ns.sh("cat /tmp/unlabelled").exit()).isNotZero();
        assertThat(ns.sh("cat /tmp/tampered").exit()).isNotZero();

        Scrape after = scrape();
        assertThat(after.count("imans_permission_denials_total{cause=\"missing-hash\"}")
                - idle.count("imans_permission_denials_total{cause=\"missing-hash\"}")).isEqualTo(1);
        assertThat(after.count("imans_permission_denials_total{cause=\"invalid-hash\"}")
                - idle.count("imans_permission_denials_total{cause=\"invalid-hash\"}")).isEqualTo(1);
        assertThat(after.count("imans_permission_denials_total{cause=\"signed-file-write\"}")).isZero();
        // Answers are counted once written, so the opener may see its refusal just before the count.
        eventually(() -> assertThat(scrape().count(
                "imans_permission_answers_total{engine=\"filesystems\",verdict=\"deny\"}")
                - idle.count("imans_permission_answers_total{engine=\"filesystems\",verdict=\"deny\"}")).isEqualTo(2));
        assertThat(after.count("imans_permission_answers_total{engine=\"filesystems\",verdict=\"allow\"}"))
                .isGreaterThan(idle.count("imans_permission_answers_total{engine=\"filesystems\",verdict=\"allow\"}"));
        assertThat(after.count("imans_permission_events_total{engine=\"filesystems\"}")).isGreaterThan(idle.count("imans_permission_events_total{engine=\"filesystems\"}"));
        assertThat(after.count("imans_appraisals_total")).isGreaterThanOrEqualTo(3);
        assertThat(after.count("imans_measurement_entries" + scope)).isGreaterThanOrEqualTo(entries + 3);
        assertThat(after.count("imans_audit_records_written_total")).isGreaterThanOrEqualTo(2);

        // Every answer is in the histogram once; buckets are cumulative and end at the count.
        long answers = after.count("imans_permission_answers_total{engine=\"filesystems\",verdict=\"allow\"}")
                + after.count("imans_permission_answers_total{engine=\"filesystems\",verdict=\"deny\"}");
        assertThat(after.count("imans_decision_latency_seconds_count{engine=\"filesystems\"}")).isEqualTo(answers);
        assertThat(after.count("imans_decision_latency_seconds_bucket{engine=\"filesystems\",le=\"+Inf\"}")).isEqualTo(answers);
        assertThat(after.value("imans_decision_latency_seconds_sum{engine=\"filesystems\"}")).isPositive();
        double last = 0;
        for (var e : after.samples().entrySet()) {
            if (e.getKey().startsWith("imans_decision_latency_seconds_bucket{engine=\"filesystems\"")) {
                assertThat(e.getValue()).isGreaterThanOrEqualTo(last);
                last = e.getValue();
            }
        }
        assertThat(after.count("imans_decision_latency_seconds_bucket{engine=\"filesystems\",le=\"5\"}")).isEqualTo(answers);

        // A passing file is ignore-marked; the kernel answers its next opens without asking.
        eventually(() -> assertThat(scrape().count("imans_ignore_marks_added_total{engine=\"filesystems\"}")).isPositive());
        long events = scrape().count("imans_permission_events_total{engine=\"filesystems\"}");
        assertThat(ns.sh("cat /tmp/ok").out()).isEqualTo("hello\n");
        assertThat(ns.sh("cat /tmp/ok").out()).isEqualTo("hello\n");
        eventually(() -> assertThat(scrape().count("imans_ignore_mark_hits_total{engine=\"filesystems\"}")).isGreaterThanOrEqualTo(1));
        assertThat(scrape().count("imans_permission_events_total{engine=\"filesystems\"}")).isEqualTo(events);
    }

    /**
     * A container's opens through its overlay root are judged by the overlays' engine: they are counted
     * under {@code engine="overlays"}, not lost from the scrape, and the other engine's counts stay put.
     */
    @Test
    void opensThroughAnOverlayAreCountedUnderTheOverlaysEngine() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Namespace ns = daemon.registered();
        ns.shOk("mkdir -p /tmp/lower /tmp/upper /tmp/work /tmp/merged && echo plain > /tmp/lower/f"
                + " && mount -t overlay overlay -o lowerdir=/tmp/lower,upperdir=/tmp/upper,workdir=/tmp/work /tmp/merged");
        daemon.policy(ns, "appraise fsmagic=0x794c7630 func=FILE_CHECK\n");
        String overlays = "engine=\"overlays\"";
        String filesystems = "engine=\"filesystems\"";
        Scrape before = scrape();
        assertThat(before.count("imans_filesystems_marked{" + overlays + "}")).isPositive();

        assertThat(ns.sh("cat /tmp/merged/f").exit()).isNotZero();
        String deny = "imans_permission_answers_total{%s,verdict=\"deny\"}";
        eventually(() -> assertThat(scrape().count(deny.formatted(overlays))
                - before.count(deny.formatted(overlays))).isEqualTo(1));
        Scrape after = scrape();
        assertThat(after.count(deny.formatted(filesystems))).isEqualTo(before.count(deny.formatted(filesystems)));
        assertThat(after.count("imans_permission_events_total{" + overlays + "}"))
                .isGreaterThan(before.count("imans_permission_events_total{" + overlays + "}"));
        long answers = after.count(deny.formatted(overlays))
                + after.count("imans_permission_answers_total{" + overlays + ",verdict=\"allow\"}");
        assertThat(after.count("imans_decision_latency_seconds_count{" + overlays + "}")).isEqualTo(answers);
        assertThat(after.count("imans_decision_latency_seconds_bucket{" + overlays + ",le=\"+Inf\"}")).isEqualTo(answers);
    }

    @Test
    void aDegradedStateIsOneUntilItClears() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE, Set.of(), AuditFormat.SEED, base -> {
            state = Files.createDirectories(base.resolve("state"));
            try {
                Run.Result r = Run.run("mount", "-t", "tmpfs", "-o", "size=1m", "imans-test-state", state.toString());
                assertThat(r.exit()).as(r.err()).isZero();
                // The measurement list files stay open for appending, which a read-only remount refuses
                // (EBUSY): they get a filesystem of their own, and only the journal's turns read-only.
                Path lists = Files.createDirectories(state.resolve("measurements"));
                r = Run.run("mount", "-t", "tmpfs", "-o", "size=1m", "imans-test-lists", lists.toString());
                assertThat(r.exit()).as(r.err()).isZero();
            } catch (InterruptedException e) {
                throw new IOException(e);
            }
        });
        assertThat(Run.run("mount", "-o", "remount,ro", state.toString()).exit()).isZero();
        Namespace ns = daemon.fresh();
        assertThatThrownBy(() -> daemon.register(ns)).isInstanceOf(IOException.class);
        Scrape degraded = scrape();
        assertThat(degraded.count("imans_healthy")).isZero();
        assertThat(degraded.count("imans_health_condition{condition=\"state-unsaved\"}")).isEqualTo(1);
        assertThat(degraded.count("imans_health_condition{condition=\"filesystem-unmarked\"}")).isZero();

        assertThat(Run.run("mount", "-o", "remount,rw", state.toString()).exit()).isZero();
        eventually(() -> {
            Scrape s = scrape();
            assertThat(s.count("imans_health_condition{condition=\"state-unsaved\"}")).isZero();
            assertThat(s.count("imans_healthy")).isEqualTo(1);
        });
    }
}
