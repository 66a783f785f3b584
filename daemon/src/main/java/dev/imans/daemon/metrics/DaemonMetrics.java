package dev.imans.daemon.metrics;

import dev.imans.daemon.audit.AuditWriter;
import dev.imans.daemon.control.MeasurementSource;
import dev.imans.daemon.enforce.Enforcement;
import dev.imans.daemon.enforce.MemfdExecGuard;
import dev.imans.daemon.enforce.EnforcementMetrics;
import dev.imans.daemon.fanotify.EngineMetrics;
import dev.imans.daemon.fanotify.FanotifyEngine;
import dev.imans.daemon.health.Condition;
import dev.imans.daemon.health.Degradation;
import dev.imans.daemon.health.Health;
import dev.imans.daemon.ns.NamespaceService;
import dev.imans.ns.NamespaceId;
import dev.imans.ns.PolicyTarget;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.ToLongFunction;

/**
 * The daemon's counters and states in the Prometheus text format ({@code .imans/metrics}, and
 * {@code --metrics-listen}). Everything is read when scraped: the engine's and the decider's
 * {@link java.util.concurrent.atomic.LongAdder}s, which the permission path bumps without locks or
 * allocation, and the registry, health, measurement lists and audit writer.
 */
public final class DaemonMetrics {
    private final NamespaceService service;
    private final MeasurementSource measurements;
    private final Optional<Enforcement> enforcement;
    private final AuditWriter audit;
    private final Health health;

    public DaemonMetrics(NamespaceService service, MeasurementSource measurements, Optional<Enforcement> enforcement,
            AuditWriter audit, Health health) {
        this.service = service;
        this.measurements = measurements;
        this.enforcement = enforcement;
        this.audit = audit;
        this.health = health;
    }

    /** The text exposition of every metric now. */
    public String render() {
        PrometheusText t = new PrometheusText();
        t.single("imans_enforcement_enabled", "gauge",
                "1 when the daemon answers fanotify permission events, 0 with --no-enforce.",
                enforcement.isPresent() ? 1 : 0);
        enforcement.ifPresent(e -> engine(t, e));
        registry(t);
        health(t);
        measurementStore().flatMap(dev.imans.daemon.measure.MeasurementStore::tpmAnchor).ifPresent(a -> tpm(t, a.stats()));
        t.single("imans_audit_records_written_total", "counter",
                "Integrity audit records written to the audit sinks.", audit.written());
        t.single("imans_audit_records_dropped_total", "counter",
                "Integrity audit records dropped (the writer's queue was full or a sink failed).", audit.dropped());
        return t.toString();
    }

    public byte[] renderBytes() {
        return render().getBytes(StandardCharsets.UTF_8);
    }

    /** The content type to serve {@link #render} with. */
    public static String contentType() {
        return PrometheusText.CONTENT_TYPE;
    }

    /** An engine and the value of its {@code engine} label. */
    private record Engine(String label, FanotifyEngine engine) {
        EngineMetrics m() {
            return engine.metrics();
        }
    }

    /**
     * The engines' metrics carry an {@code engine} label: {@code filesystems} (marks on filesystems)
     * and {@code overlays} (marks on overlay mounts, where a container's opens through its root are
     * judged). Without it a scrape would show almost none of a container's events.
     */
    private static List<Engine> engines(Enforcement e) {
        List<Engine> out = new ArrayList<>(2);
        out.add(new Engine("filesystems", e.engine()));
        if (e.overlayEngine() != null) {
            out.add(new Engine("overlays", e.overlayEngine()));
        }
        return out;
    }

    /** A counter or gauge with one sample per engine. */
    private static void perEngine(PrometheusText t, List<Engine> engines, String name, String type, String help,
            ToLongFunction<Engine> value) {
        t.family(name, type, help);
        for (Engine g : engines) {
            t.sample(name, value.applyAsLong(g), "engine", g.label());
        }
    }

    private static void engine(PrometheusText t, Enforcement e) {
        List<Engine> engines = engines(e);
        EnforcementMetrics d = e.metrics();
        String onError = e.config().engine().onDecisionError().verdict().name().toLowerCase(Locale.ROOT);
        String onOverload = e.config().engine().onOverload().verdict().name().toLowerCase(Locale.ROOT);

        perEngine(t, engines, "imans_permission_events_total", "counter",
                "Fanotify permission events read (FAN_OPEN_PERM, FAN_OPEN_EXEC_PERM); each is answered once.",
                g -> g.m().events());
        t.family("imans_permission_answers_total", "counter", "Permission events answered, by verdict.");
        for (Engine g : engines) {
            t.sample("imans_permission_answers_total", g.m().allowed(), "engine", g.label(), "verdict", "allow")
                    .sample("imans_permission_answers_total", g.m().denied(), "engine", g.label(), "verdict", "deny");
        }
        t.family("imans_permission_answers_by_reason_total", "counter",
                "Permission events answered without the decider or by a failure policy, by reason.");
        for (Engine g : engines) {
            EngineMetrics m = g.m();
            String engine = g.label();
            t.sample("imans_permission_answers_by_reason_total", m.selfAllowed(), "engine", engine, "reason",
                            "own_process", "verdict", "allow")
                    .sample("imans_permission_answers_by_reason_total", m.specialAllowed(), "engine", engine,
                            "reason", "not_regular_file", "verdict", "allow")
                    .sample("imans_permission_answers_by_reason_total", m.decisionErrors(), "engine", engine,
                            "reason", "decision_error", "verdict", onError)
                    .sample("imans_permission_answers_by_reason_total", m.overloaded(), "engine", engine, "reason",
                            "overload", "verdict", onOverload)
                    .sample("imans_permission_answers_by_reason_total", m.releasedAtShutdown(), "engine", engine,
                            "reason", "shutdown", "verdict", "allow");
        }
        t.family("imans_permission_denials_total", "counter",
                "Opens the decider denied, by the kernel audit cause of the first denying scope"
                        + " (signed-file-write: a writer of a file whose security.ima is a signature).");
        for (Map.Entry<String, Long> c : d.denialsByCause().entrySet()) {
            t.sample("imans_permission_denials_total", c.getValue(), "cause", c.getKey());
        }
        perEngine(t, engines, "imans_permission_deferred_total", "counter",
                "Permission events handed to the decision workers (files too large to judge on the reader).",
                g -> g.m().deferred());
        perEngine(t, engines, "imans_permission_response_errors_total", "counter",
                "Answers the kernel refused (the write to the fanotify group failed).", g -> g.m().responseErrors());
        perEngine(t, engines, "imans_fanotify_overflows_total", "counter",
                "FAN_Q_OVERFLOW events: the kernel's queue overflowed.", g -> g.m().overflows());

        t.family("imans_decision_latency_seconds", "histogram",
                "Time from reading a permission event's batch to writing its answer.");
        for (Engine g : engines) {
            EngineMetrics.Histogram h = g.m().latencyHistogram();
            for (int i = 0; i < h.bounds().length; i++) {
                t.sample("imans_decision_latency_seconds_bucket", h.cumulative()[i], "engine", g.label(), "le",
                        PrometheusText.number(h.bounds()[i]));
            }
            t.sample("imans_decision_latency_seconds_bucket", h.count(), "engine", g.label(), "le", "+Inf");
            t.sample("imans_decision_latency_seconds_sum", h.sum(), "engine", g.label());
            t.sample("imans_decision_latency_seconds_count", h.count(), "engine", g.label());
        }

        perEngine(t, engines, "imans_ignore_marks_added_total", "counter",
                "Ignore marks added: the kernel answers later opens of the file itself until it changes.",
                g -> g.m().ignoreMarksAdded());
        perEngine(t, engines, "imans_after_answer_inline_total", "counter",
                "Answers whose ignore marks the reader placed itself, the marker thread's queue being full"
                        + " (each adds the marks' time to the next opener's wait).", g -> g.m().afterAnswerInline());
        perEngine(t, engines, "imans_ignore_marks_removed_total", "counter",
                "Ignore marks removed because the file was or could be written.", g -> g.m().ignoreMarksRemoved());
        t.single("imans_ignore_mark_flushes_total", "counter",
                "Times every ignore mark was dropped (policy, registration or key change).", d.flushes.sum());
        t.single("imans_ignore_marks_of_replaced_policies_total", "counter",
                "Ignore marks not placed because a stricter policy replaced the one their verdict came from"
                        + " before the mark's turn came.", d.marksOfReplacedPolicies.sum());
        t.single("imans_ignore_marks_of_changed_files_total", "counter",
                "Ignore marks not placed because the file changed between its event and the mark's turn.",
                d.marksOfChangedFiles.sum());
        perEngine(t, engines, "imans_ignore_mark_hits_total", "counter",
                "Opens of ignore-marked files, answered by the kernel without an event (a lower bound: queued"
                        + " opens of one file by one process merge).", g -> g.m().ignoredOpens());
        perEngine(t, engines, "imans_modifications_total", "counter",
                "Writes and writable opens seen by the modification watcher.", g -> g.m().modifications());
        perEngine(t, engines, "imans_modification_catch_ups_total", "counter",
                "Times a deciding thread read the pending writes itself before judging an exec or using a"
                        + " cached verdict, so that no write queued before the open is missed.",
                g -> g.m().modificationCatchUps());
        t.single("imans_appraisals_total", "counter", "Appraisals computed (security.ima read, file hashed).",
                d.appraisals.sum());
        t.single("imans_appraisal_cache_hits_total", "counter", "Appraisals answered from the integrity cache.",
                d.cacheHits.sum());
        t.single("imans_shared_layer_files_total", "counter", "Files opened through an overlay whose digests and"
                + " verdicts came from another overlay of the same layer (another container of the image).",
                d.sharedLayerFiles.sum());
        t.single("imans_allowed_for_every_opener_total", "counter", "Opens allowed without looking up the opener:"
                + " the file satisfies every rule that may cover it, whoever opens it.", d.openerSkipped.sum());
        t.single("imans_measurement_failures_total", "counter",
                "Measurements and audit-rule records not taken because the file could not be read.",
                d.measureFailures.sum());
        perEngine(t, engines, "imans_filesystems_marked", "gauge", "Filesystems (engine filesystems) and overlay"
                + " mounts (engine overlays) with a fanotify permission mark now.", g -> g.engine().marked().size());
        t.single("imans_memfd_execs_judged", "gauge", "1 when execs of memfds are judged (their filesystem"
                + " marked, or the exec guard attached), else 0.", e.memfdFilesystem().execsJudged() ? 1 : 0);
        MemfdExecGuard.Counts memfd = e.memfdExecs();
        t.single("imans_memfd_execs_refused_total", "counter",
                "Execs of memfds the exec guard refused (the process killed before the program ran).",
                memfd.refused());
        t.single("imans_memfd_execs_reported_total", "counter",
                "Execs of memfds the exec guard audited (refused, or allowed in log mode).", memfd.reported());
        t.single("imans_memfd_exec_reports_lost_total", "counter", "Execs of memfds the exec guard judged but"
                + " could not report (its ring buffer was full): no audit record.", memfd.lost());
    }

    private void registry(PrometheusText t) {
        List<NamespaceId> ids = service.ids();
        t.single("imans_namespaces_registered", "gauge", "Mount namespaces registered.", ids.size());
        List<PolicyTarget> scopes = new ArrayList<>();
        scopes.add(PolicyTarget.HOST);
        ids.forEach(id -> scopes.add(new PolicyTarget.Namespace(id)));
        t.family("imans_policy_rules", "gauge", "Rules of the policy in force, by scope (host or namespace id).");
        for (PolicyTarget s : scopes) {
            t.sample("imans_policy_rules", service.committedPolicy(s).map(p -> p.rules().size()).orElse(0),
                    "scope", label(s));
        }
        t.family("imans_measurement_entries", "gauge",
                "Entries of the measurement list, by scope (runtime_measurements_count).");
        for (PolicyTarget s : scopes) {
            t.sample("imans_measurement_entries", measurements.count(s), "scope", label(s));
        }
        t.family("imans_measurement_violations", "gauge", "The violations counter, by scope.");
        for (PolicyTarget s : scopes) {
            t.sample("imans_measurement_violations", measurements.violations(s), "scope", label(s));
        }
    }

    private Optional<dev.imans.daemon.measure.MeasurementStore> measurementStore() {
        return measurements instanceof dev.imans.daemon.measure.MeasurementStore m ? Optional.of(m) : Optional.empty();
    }

    private static void tpm(PrometheusText t, dev.imans.daemon.measure.TpmAnchor.Stats s) {
        t.single("imans_tpm_anchor_records", "gauge", "Records in this epoch's TPM anchor log.", s.records());
        t.single("imans_tpm_anchor_pending", "gauge",
                "Anchor records written but not yet extended into the PCR (the TPM failed).", s.pending());
        t.single("imans_tpm_anchor_extensions_total", "counter", "TPM2_PCR_Extend commands that succeeded.",
                s.extensions());
        t.single("imans_tpm_anchor_extend_failures_total", "counter",
                "TPM2_PCR_Extend commands that failed (error code or no answer).", s.failures());
    }

    private void health(PrometheusText t) {
        List<Degradation> active = health.active();
        Set<Condition> on = EnumSet.noneOf(Condition.class);
        active.forEach(d -> on.add(d.condition()));
        t.single("imans_healthy", "gauge", "1 when no degraded state is active (.imans/health says ok).",
                active.isEmpty() ? 1 : 0);
        t.single("imans_hugetlb_page_sizes_unjudged", "gauge", "Huge page sizes whose kernel-internal hugetlbfs"
                + " could not be marked: opens and execs of MFD_HUGETLB memfds of those sizes are not judged.",
                active.stream().filter(d -> d.condition() == Condition.HUGETLBFS_UNMARKED).count());
        t.family("imans_health_condition", "gauge", "1 while the degraded state is active, by condition.");
        for (Condition c : Condition.values()) {
            t.sample("imans_health_condition", on.contains(c) ? 1 : 0, "condition", c.label());
        }
    }

    private static String label(PolicyTarget s) {
        return switch (s) {
            case PolicyTarget.Host h -> "host";
            case PolicyTarget.Namespace n -> n.id().toString();
        };
    }
}
