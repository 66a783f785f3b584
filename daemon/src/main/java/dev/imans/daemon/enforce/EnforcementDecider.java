package dev.imans.daemon.enforce;

import dev.imans.appraise.AppraisalResult;
import dev.imans.appraise.AppraiseMode;
import dev.imans.appraise.Appraiser;
import dev.imans.appraise.Decision;
import dev.imans.appraise.Requirements;
import dev.imans.audit.AuditMeasurementRecord;
import dev.imans.audit.AuditType;
import dev.imans.audit.FileHash;
import dev.imans.audit.IntegrityRecord;
import dev.imans.audit.PcrRecord;
import dev.imans.audit.Subject;
import dev.imans.audit.UntrustedString;
import dev.imans.crypto.HashAlgo;
import dev.imans.daemon.audit.AuditWriter;
import dev.imans.daemon.fanotify.Decider;
import dev.imans.daemon.fanotify.PermissionEvent;
import dev.imans.daemon.fanotify.Verdict;
import dev.imans.linux.Leases;
import dev.imans.linux.LinuxException;
import dev.imans.linux.Stat;
import dev.imans.linux.Xattr;
import dev.imans.measure.EventData;
import dev.imans.policy.AccessFacts;
import dev.imans.policy.FileFacts;
import dev.imans.policy.Func;
import dev.imans.policy.Mask;
import dev.imans.policy.MatchResult;
import dev.imans.policy.PolicyMatcher;
import dev.imans.xattr.AuditCause;
import dev.imans.xattr.ImaXattr;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;

/**
 * The decision engine: for each permission event, the opener's namespace and credentials, the host
 * policy and (if registered) the namespace's policy evaluated as the kernel does, appraisal through the
 * integrity cache, the appraise mode of each scope, measurements into each scope's list, audit records,
 * and the ignore-mark fast path.
 *
 * <p>An open is denied when any judging scope (the host's, the opener's namespace if registered, and the
 * registered namespaces it descends from, {@link NamespaceLineage}) in
 * enforce mode requires appraisal and appraisal fails: a namespace adds restrictions, never lifts the
 * host's. Denials reach the opener as EPERM (a content-class fanotify group cannot answer EACCES).
 *
 * <p>Reader thread ({@link #decide}): opens of files that no appraising scope could ever cover are
 * allowed at once and ignore-marked; small files get the full decision right there (see
 * {@link #INLINE_MAX_BYTES}); larger ones go to the workers ({@link #decideDeferred}). Audit records are only queued here; the writer
 * thread renders and writes them.
 */
public final class EnforcementDecider implements Decider {
    /**
     * Files up to this size are judged on the reader thread: hashing 64 KiB takes about 60 us here,
     * less than handing the event to a worker and waking it, and it bounds how long a small file can
     * hold the answers queued behind it. Larger files go to the workers.
     */
    static final long INLINE_MAX_BYTES = 64 * 1024;

    private final Context ctx;

    EnforcementDecider(Context ctx) {
        this.ctx = ctx;
    }

    @Override
    public Verdict decide(PermissionEvent event) {
        Policies p = ctx.policies();
        if (!p.judgesAnything()) {
            event.afterAnswer(new Ignore(p));
            return Verdict.ALLOW;
        }
        FileFacts file;
        try {
            file = fileFacts(event);
        } catch (LinuxException e) {
            return Verdict.DEFER;
        }
        if (!p.coverage(file, ctx.config().hashAlgo()).any()) {
            event.afterAnswer(new Ignore(p));
            return Verdict.ALLOW;
        }
        // A re-hash still owed may wait for the re-hash thread, which can be hashing a large file.
        FileKey key = new FileKey(event.dev(), event.ino());
        catchUp(event, key);
        if (ctx.rehash().isPending(key)) {
            event.attach(new ReaderFacts(p, file));
            return Verdict.DEFER;
        }
        if (event.size() > INLINE_MAX_BYTES) {
            // Handed to a worker unless what the verdict needs is known already (a file seen before its
            // ignore mark was dropped, or through another container's overlay of the same layer).
            try {
                if (!needsOpenMode(p)) {
                    shareIfOverlay(event, file, key);
                    if (allowedForEveryOpener(event, p, file, key, true)) {
                        return Verdict.ALLOW;
                    }
                }
            } catch (LinuxException e) {
                // Decided on the worker, from the start.
            }
            event.attach(new ReaderFacts(p, file));
            return Verdict.DEFER;
        }
        try {
            return decide(event, p, file);
        } catch (LinuxException e) {
            event.attach(new ReaderFacts(p, file));
            return Verdict.DEFER;
        }
    }

    /**
     * Before anything the cache holds for this file version may serve this open, and before any exec:
     * the writes queued before the open are read first. A write through a shared mapping to a page
     * already made writable moves no timestamp, so its version looks the same; only its
     * close-after-write (or the writable open that made the mapping) tells, and the kernel queued that
     * before the writer's call returned.
     * Reading it here instead of waiting for the watcher's next batch keeps a verdict for the old
     * content from being served in that pause. Execs are never ignore-marked ({@code IgnoreMarks}), so
     * every exec comes here. Once per event, on whichever thread decides first.
     */
    private void catchUp(PermissionEvent event, FileKey key) {
        if (event.caughtUp() || !event.isExec() && !ctx.cache().knows(key, FileStamp.of(event))) {
            return;
        }
        event.markCaughtUp();
        ctx.catchUpModifications();
    }

    /**
     * Whether some policy in force needs the open's mode ({@code MAY_READ}, {@code MAY_WRITE}...): a
     * {@code mask=} rule, a re-hash on close, and a measuring policy (readers and writers make different
     * violations).
     */
    private static boolean needsOpenMode(Policies p) {
        for (Scope s : p.all()) {
            if (s.testsMask() || s.rehashOnClose() || s.measures()) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether only the violation checks of measuring policies need the open's mode: no {@code mask=} rule
     * and no re-hash on close, which must tell a reader's mode from another's. Then a file nobody holds
     * open for writing, the opener included (a read lease can be taken), is opened for reading, and the
     * opener's call ({@code /proc/PID/task} and {@code /proc/PID/syscall}, about a quarter of a measured
     * cold open) is read only when some descriptor writes.
     */
    private static boolean onlyViolationsNeedOpenMode(Policies p) {
        for (Scope s : p.all()) {
            if (s.testsMask() || s.rehashOnClose()) {
                return false;
            }
        }
        return true;
    }

    /**
     * Whether the file satisfies every rule that may cover it whoever opens it, where nothing needs the
     * open's mode (the caller has asked {@link #needsOpenMode}): then it is allowed without looking the
     * opener up (its /proc reads are a good part of a cold open), and the verdict is the one the ignore
     * mark placed after the answer keeps. With {@code knownOnly}, only from what the cache knows
     * (nothing is hashed).
     */
    private boolean allowedForEveryOpener(PermissionEvent event, Policies p, FileFacts file, FileKey key,
            boolean knownOnly) throws LinuxException {
        if (event.size() == 0 || !mayIgnore(event, p, file, key, OptionalInt.empty(), knownOnly,
                new Writers(event.fd()))) {
            return false;
        }
        ctx.metrics().openerSkipped.increment();
        event.afterAnswer(new Ignore(p));
        return true;
    }

    /**
     * An ignore mark for the event's file, placed once the opener has its answer: the verdict it keeps
     * holds for every opener and was reached under {@code judgedUnder}. The file's stamp is compared
     * before and after the mark, for every mark: a write between the appraisal and the mark, or a
     * chown, chmod or relabel (ctime) that brought a file no rule covered into a rule's reach before
     * its attribute watch was placed, leaves no mark.
     */
    private record Ignore(Policies judgedUnder) {}

    @Override
    public void answered(PermissionEvent event) {
        if (event.afterAnswerWork() instanceof Ignore i) {
            ctx.ignoreChecked(event, i.judgedUnder());
        }
    }

    /**
     * The file's facts as the reader thread read them for a deferred event, with the policies they were
     * read under: which facts are read ({@link SelinuxLabels#wanted}) depends on the policies, so they
     * serve only while those are still in force.
     */
    private record ReaderFacts(Policies policies, FileFacts file) {}

    @Override
    public Verdict decideDeferred(PermissionEvent event) throws LinuxException {
        Policies p = ctx.policies();
        FileFacts file = event.attachment() instanceof ReaderFacts r && r.policies() == p ? r.file() : fileFacts(event);
        return decide(event, p, file);
    }

    /** The full decision under {@code p}, with {@code file} the facts of the event's file, read once per event. */
    private Verdict decide(PermissionEvent event, Policies p, FileFacts file) throws LinuxException {
        // The opener's /proc files are read only as far as some policy in force can use them; the mask
        // is also wanted for a file that may be new (empty).
        boolean ids = false;
        for (Scope s : p.all()) {
            ids |= s.testsIds();
        }
        boolean mask = event.size() == 0 || needsOpenMode(p);
        FileKey key = new FileKey(event.dev(), event.ino());
        catchUp(event, key);
        shareIfOverlay(event, file, key);
        if (!mask && allowedForEveryOpener(event, p, file, key, false)) {
            return Verdict.ALLOW;
        }
        Writers writers = new Writers(event.fd());
        Opener opener;
        if (mask && event.size() != 0 && onlyViolationsNeedOpenMode(p)) {
            // An exec's mode is MAY_EXEC and makes no violation; an open nobody writes is a read. A probe
            // that failed (a filesystem without leases) tells nothing: the call is read.
            boolean call = !event.isExec() && !writers.absent();
            opener = OpenerProbe.probe(event, ids, call);
            if (!event.isExec() && !call) {
                opener = opener.withCall(OpenCall.NOT_WRITING);
            }
        } else {
            opener = OpenerProbe.probe(event, ids, mask);
        }
        Func func = event.isExec() ? Func.BPRM_CHECK : Func.FILE_CHECK;
        AccessFacts facts = accessFacts(func, opener, file);

        boolean allow = true;
        boolean writerAppraised = false;
        boolean passed = true;
        Set<AppraisalResult> failures = new LinkedHashSet<>();
        Outcome denial = null;
        EventName name = new EventName(event, opener);
        for (Scope scope : p.judging(opener.mntNs(), ctx.lineage().rootsOf(opener.mntNs(), opener.pid(), p))) {
            MatchResult m = PolicyMatcher.match(scope.policy(), facts);
            if (func == Func.FILE_CHECK) {
                violationCheck(event, opener, key, scope, m, name, writers);
            }
            if (m.measure()) {
                // As process_measurement() does: the measurement is stored before appraisal judges.
                measure(event, opener, key, scope, m, name);
            }
            if (m.audit()) {
                auditRule(event, opener, key, scope, m, name);
            }
            if (scope.mode() == AppraiseMode.OFF || !m.appraise()) {
                continue;
            }
            if (scope.rehashOnClose()) {
                ctx.rehash().rehashNow(key, event.fd());
            }
            AppraisalKey req = new AppraisalKey(new Requirements(m.signatureRequired(), m.appraiseAlgos(),
                    ctx.config().hashAlgo()), scope.keyring());
            Outcome o = newFile(event, opener) ? Outcome.PASS : judge(event, opener, key, req, scope.mode());
            failures.addAll(o.audits);
            if (!o.allow && denial == null) {
                denial = o;
            }
            allow &= o.allow;
            passed &= o.passed;
            if (o.passed && scope.rehashOnClose() && AccessMask.mayWrite(opener.requestedMask())) {
                writerAppraised = true;
            }
        }
        // ima_update_xattr (ima_appraise.c) re-hashes only a file whose appraisal passed (ima_file_status):
        // a failure let through by log mode keeps its label as the evidence. And only where no scope that
        // appraises the file without re-hash would see its change turned into a passing label.
        if (allow && writerAppraised && passed && Coverage.onlyRehashingScopesMayAppraise(p, file)) {
            ctx.rehash().writerAppraised(key, event.fd());
        }
        if (!failures.isEmpty()) {
            audit(event, opener, failures);
        }
        if (allow && !writerAppraised && mayIgnore(event, p, file, key, opener.requestedMask(), false, writers)) {
            event.afterAnswer(new Ignore(p));
        }
        if (denial != null) {
            denial.count(ctx.metrics());
        }
        return allow ? Verdict.ALLOW : Verdict.DENY;
    }

    /**
     * Adds the file to {@code scope}'s list unless this version is already measured there into the
     * rule's PCR (ima_store_measurement in ima_api.c, after the {@code IMA_MEASURED} check of
     * process_measurement). The digest is in the algorithm the kernel would collect it in
     * ({@link EntryFacts}), through the integrity cache so appraisal does not hash again; the entry is
     * written to the list's file before the open is answered.
     */
    private void measure(PermissionEvent event, Opener opener, FileKey key, Scope scope, MatchResult m, EventName name) {
        Measurements lists = ctx.measurements();
        FileStamp stamp = FileStamp.of(event);
        int pcr = m.pcr();
        if (lists.measured(scope.namespace(), key, stamp, pcr)) {
            return;
        }
        dev.imans.measure.Template template = lists.template(m.template());
        Optional<EventData> ev;
        try {
            ev = EntryFacts.file(event.fd(), template, appraising(scope, m), ctx.config().hashAlgo(),
                    ctx.cache().digests(key, stamp, event.fd()), name.bytes(), event.uid(), event.gid(), event.mode());
        } catch (java.io.IOException e) {
            // No entry without a digest: the file could not be read through the event descriptor
            // (counted, and logged with the metrics when enforcement stops).
            ctx.metrics().measureFailures.increment();
            return;
        }
        if (ev.isEmpty()) {
            ctx.metrics().measureFailures.increment();
            return;
        }
        if (lists.claim(scope.namespace(), key, stamp, pcr)) {
            int tpmResult = lists.append(scope.namespace(), pcr, template, ev.get());
            if (tpmResult != 0) {
                // ima_add_template_entry: the entry stays listed, the open goes on, and the failure is audited.
                ctx.audit().submit(tpmError(AuditFacts.subject(opener), tpmResult, name.untrusted(), opener.mntNs(),
                        AuditFacts.inode(ctx.filesystems(), event.fd(), event.dev(), event.ino())));
            }
        }
    }

    /**
     * The record of ima_add_template_entry (ima_queue.c) when the TPM refused or could not take the
     * extension: op {@code add_template_measure}, cause {@code TPM_error(rc)}, result 0 (res=1).
     */
    private static PcrRecord tpmError(Subject subject, int rc, UntrustedString name, long mntNs,
                                      dev.imans.audit.InodeRef inode) {
        return new PcrRecord(subject, PcrRecord.Op.ADD_TEMPLATE_MEASURE, "TPM_error(" + rc + ")", Optional.of(name),
                OptionalLong.of(mntNs), Optional.of(inode), true, 0);
    }

    /**
     * ima_rdwr_violation_check (ima_main.c, Linux 6.1), before the measurement as there, for opens
     * ({@code FILE_CHECK}) whose mode is known. A writer's open of a file this scope must measure while
     * a reader holds it is a {@code ToMToU} violation; a read-only open this scope's measure rule matched
     * (measured before or not) while the file is open for writing is an {@code open_writers} one. Each is
     * recorded every time, as 6.1 does: a violation entry and a type 1804 record.
     */
    private void violationCheck(PermissionEvent event, Opener opener, FileKey key, Scope scope, MatchResult m,
                                EventName name, Writers writers) {
        OptionalInt mask = opener.requestedMask();
        if (mask.isEmpty()) {
            return;
        }
        Violations v = ctx.violations();
        if (AccessMask.knownToWrite(mask)) {
            if (v.mustMeasure(scope.namespace(), key) && v.hasReader(key)) {
                violation(event, opener, scope, name, "ToMToU");
            }
            return;
        }
        if (m.measure()) {
            v.markMustMeasure(scope.namespace(), key);
        }
        v.reader(key, opener.pid());
        // ima_rdwr_violation_check's inode_is_open_for_write, by a read lease probe.
        if (m.measure() && writers.present()) {
            violation(event, opener, scope, name, "open_writers");
        }
    }

    /** ima_add_violation: the entry (appended off the opener's path) and the INTEGRITY_PCR record. */
    private void violation(PermissionEvent event, Opener opener, Scope scope, EventName name, String cause) {
        violation(event.fd(), event.dev(), event.ino(), event.uid(), event.gid(), event.mode(), opener, scope,
                name.untrusted(), cause);
    }

    private void violation(int fd, long dev, long ino, int uid, int gid, int mode, Opener opener, Scope scope,
                           UntrustedString name, String cause) {
        int tpmResult = ctx.measurements().appendViolation(scope.namespace(), EntryFacts.violation(fd,
                ctx.measurements().template(null), name.bytes(), uid, gid, mode));
        var inode = AuditFacts.inode(ctx.filesystems(), fd, dev, ino);
        if (tpmResult != 0) {
            // ima_add_violation stores through ima_add_template_entry, which audits the failed extension first.
            ctx.audit().submit(tpmError(AuditFacts.subject(opener), tpmResult, name, opener.mntNs(), inode));
        }
        ctx.audit().submit(PcrRecord.invalidPcr(AuditFacts.subject(opener), cause, name, OptionalLong.of(opener.mntNs()),
                inode));
    }

    /**
     * The ToMToU check for a writer's open that raised no permission event (the file was ignore-marked):
     * the modification watcher saw it leave the file open for writing. Run on the watcher's thread, after
     * the open: the opener is taken for the writer when it holds a writable descriptor of the file, and is
     * judged by the scopes that judge its namespace now.
     */
    void openedWithWriter(FileKey key, int fd, int pid) {
        Violations v = ctx.violations();
        // The opener may hold the file for reading too (a shell's "exec 5<f; exec 3>>f"): remember it first.
        v.reader(key, pid);
        if (!v.known(key) || !Violations.holdsForWriting(pid, key) || !v.hasReader(key)) {
            return;
        }
        try (Stat.Buffer st = new Stat.Buffer()) {
            if (st.fstat(fd) != 0) {
                return;
            }
            long ns = dev.imans.ns.NamespaceId.fromLink(dev.imans.linux.Proc.readlink("/proc/" + pid + "/ns/mnt")).inode();
            Opener opener = new Opener(pid, ns, 0, 0, 0, 0, 0, 0, false, false, OpenCall.NOT_CONSULTED, false, false);
            Policies p = ctx.policies();
            UntrustedString name = null;
            for (Scope scope : p.judging(ns, ctx.lineage().rootsOf(ns, pid, p))) {
                if (v.mustMeasure(scope.namespace(), key)) {
                    if (name == null) {
                        name = AuditFacts.name(fd, pid);
                    }
                    violation(fd, key.dev(), key.ino(), st.uid(), st.gid(), st.mode(), opener, scope, name, "ToMToU");
                }
            }
        } catch (LinuxException e) {
            // The writer is gone: nobody to hold the file, and no namespace to judge it by.
        }
    }

    /**
     * Whether the rules {@code scope} matched appraise this access as far as the kernel's measurement
     * code sees it: an appraise action exists only when appraisal is on ({@code ima_appraise=off} clears
     * IMA_APPRAISE from {@code ima_policy_flag}, ima_policy.c ima_update_policy_flags).
     */
    private static boolean appraising(Scope scope, MatchResult m) {
        return m.appraise() && scope.mode() != AppraiseMode.OFF;
    }

    /**
     * The record of an {@code audit} rule (type 1805, ima_audit_measurement in ima_api.c): the file, its
     * digest (in the algorithm {@code security.ima} names, see {@link EntryFacts#algo}), and the opener's task fields, once per file version and scope (the
     * kernel's {@code IMA_AUDITED}). The opener is still blocked, so its /proc files are its own.
     */
    private void auditRule(PermissionEvent event, Opener opener, FileKey key, Scope scope, MatchResult m,
                           EventName name) {
        FileStamp stamp = FileStamp.of(event);
        if (ctx.audited().audited(scope.namespace(), key, stamp)) {
            return;
        }
        // The record shows the file's collected digest (iint->ima_hash), in the algorithm its measurement
        // would take: the rule's template is the measure rule's, else the default (ima_match_policy).
        HashAlgo algo = EntryFacts.algo(event.fd(), ctx.measurements().template(m.template()), appraising(scope, m),
                ctx.config().hashAlgo());
        if (!EntryFacts.computable(algo)) {
            ctx.metrics().measureFailures.increment();
            return;
        }
        byte[] digest;
        try {
            digest = ctx.cache().digests(key, stamp, event.fd()).digest(algo);
        } catch (java.io.IOException e) {
            // As the kernel: no hash, no record (ima_audit_measurement is reached only after a collect).
            ctx.metrics().measureFailures.increment();
            return;
        }
        if (!ctx.audited().claim(scope.namespace(), key, stamp)) {
            return;
        }
        ctx.audit().submit(new AuditMeasurementRecord(name.untrusted(), new FileHash(algo, digest),
                OptionalLong.of(opener.mntNs()), Optional.of(AuditFacts.inode(ctx.filesystems(), event.fd(), event.dev(),
                event.ino())), AuditFacts.task(opener)));
    }

    /**
     * A layer's file met first through this overlay may be known through another container's overlay of
     * the same layer: one {@code name_to_handle_at} per file this cache does not know yet.
     */
    private void shareIfOverlay(PermissionEvent event, FileFacts file, FileKey key) {
        if (file.fsMagic() != Stat.OVERLAYFS_SUPER_MAGIC) {
            return;
        }
        FileStamp stamp = FileStamp.of(event);
        if (!ctx.cache().knows(key, stamp)) {
            var origin = dev.imans.linux.FileHandles.fid(event.fd());
            if (origin.isPresent() && ctx.cache().shareOverlay(key, stamp, origin.get())) {
                ctx.metrics().sharedLayerFiles.increment();
            }
        }
    }

    /** The file's name as its opener sees it, read once per event and only when some list wants it. */
    private static final class EventName {
        private final PermissionEvent event;
        private final Opener opener;
        private UntrustedString name;

        EventName(PermissionEvent event, Opener opener) {
            this.event = event;
            this.opener = opener;
        }

        UntrustedString untrusted() {
            if (name == null) {
                name = AuditFacts.name(event.fd(), opener.pid());
            }
            return name;
        }

        byte[] bytes() {
            return untrusted().bytes();
        }
    }

    /**
     * A file its opener is creating, which the kernel lets through unlabelled: empty, without
     * {@code security.ima}, and either opened with O_CREAT (ima_appraise_measurement marks it
     * {@code IMA_NEW_FILE} for the {@code FMODE_CREATED} open) or opened with O_TMPFILE, which never
     * reaches {@code ima_file_check} at all (fs/namei.c do_tmpfile; ima_post_create_tmpfile only
     * prepares the label the last writer's close writes).
     *
     * <p>When the opener's call cannot be read (multi-threaded openers, openat2, io_uring), an empty,
     * unlabelled file with no name (nlink 0) is taken as a fresh O_TMPFILE. Nothing else is such a
     * file but one created and unlinked while open, reopened through /proc/PID/fd: it has no content
     * to tamper with, and what a writer puts in later is judged at every later open (a non-empty or
     * labelled file never takes this path). Execs never do: an exec must see the content it runs.
     * It needs a label (or a re-hash on close) before anyone else may open it.
     */
    private static boolean newFile(PermissionEvent event, Opener opener) throws LinuxException {
        if (event.size() != 0 || event.isExec()) {
            return false;
        }
        OpenCall call = opener.call();
        boolean fresh = call.known() ? call.creates() || call.tmpfile() : Stat.fstat(event.fd()).nlink() == 0;
        return fresh && Xattr.get(event.fd(), Xattr.SECURITY_IMA).isEmpty();
    }

    /**
     * What one scope says: allowed or not, whether the appraisal passed (as the kernel's
     * {@code ima_file_status}: a fixed file passed, a failure let through by log mode did not), and the
     * failures it audits.
     */
    private record Outcome(boolean allow, boolean passed, List<AppraisalResult> audits, boolean signedWrite,
            Optional<AuditCause> cause) {
        static final Outcome PASS = new Outcome(true, true, List.of(), false, Optional.empty());

        Outcome(boolean allow, boolean passed, List<AppraisalResult> audits, Optional<AuditCause> cause) {
            this(allow, passed, audits, false, cause);
        }

        /** Counts a denial under its cause; a failure the kernel names no cause for is its initial "unknown". */
        void count(EnforcementMetrics metrics) {
            if (signedWrite) {
                metrics.deniedSignedWrite();
            } else {
                metrics.deniedFor(cause.orElse(AuditCause.UNKNOWN));
            }
        }
    }

    private Outcome judge(PermissionEvent event, Opener opener, FileKey key, AppraisalKey req, AppraiseMode mode)
            throws LinuxException {
        FileStamp stamp = FileStamp.of(event);
        AppraisalResult r = appraised(event, key, stamp, req);
        if (mode == AppraiseMode.ENFORCE && r.signed() && writes(event, opener)) {
            // process_measurement (ima_main.c, at out_locked): a MAY_WRITE open of a file whose
            // security.ima is a signature (IMA_DIGSIG) is refused, passed or not, and no record is written.
            return new Outcome(false, r.passed(), r.passed() ? List.of() : List.of(r), true, r.cause());
        }
        if (r.passed()) {
            return Outcome.PASS;
        }
        return switch (mode) {
            case ENFORCE -> new Outcome(false, false, List.of(r), r.cause());
            case LOG -> new Outcome(true, false, List.of(r), r.cause());
            case OFF -> new Outcome(true, false, List.of(), r.cause());
            case FIX -> fix(event, key, req);
        };
    }

    /**
     * Whether the open asks for MAY_WRITE as far as the opener's call shows; an unknown mask does not
     * count (a guess would refuse readers). The call is read here if the probe did not read it.
     */
    private static boolean writes(PermissionEvent event, Opener opener) {
        return !event.isExec() && AccessMask.knownToWrite(OpenerProbe.call(opener).mask());
    }

    /** Fix mode: audit the failure, write the file's hash as the kernel would, allow. */
    private Outcome fix(PermissionEvent event, FileKey key, AppraisalKey req) throws LinuxException {
        IntegrityCache.Token token = ctx.cache().token(key);
        Optional<ImaXattr> xattr = readXattr(event.fd());
        Decision d = Decision.decide(AppraiseMode.FIX, xattr, FdHasher.of(event.fd(), event.size()),
                req.requirements(), req.keyring());
        if (d.fixedXattr().isPresent()) {
            Xattr.set(event.fd(), Xattr.SECURITY_IMA, d.fixedXattr().get().encode());
            // The new xattr moved ctime: remember the repaired verdict under the file's new stamp.
            try (Stat.Buffer st = new Stat.Buffer()) {
                if (st.fstat(event.fd()) == 0 && d.result().isPresent()) {
                    ctx.cache().put(key, FileStamp.of(st), req, d.result().get(), token);
                }
            }
        }
        return new Outcome(d.allow(), d.result().map(AppraisalResult::passed).orElse(false), d.audits(),
                d.result().flatMap(AppraisalResult::cause));
    }

    private AppraisalResult appraised(PermissionEvent event, FileKey key, FileStamp stamp, AppraisalKey req)
            throws LinuxException {
        Optional<AppraisalResult> cached = ctx.cache().get(key, stamp, req);
        if (cached.isPresent()) {
            ctx.metrics().cacheHits.increment();
            return cached.get();
        }
        ctx.metrics().appraisals.increment();
        IntegrityCache.Token token = ctx.cache().token(key);
        AppraisalResult r = Appraiser.appraise(readXattr(event.fd()), ctx.cache().digests(key, stamp, event.fd()),
                req.requirements(), req.keyring());
        ctx.cache().put(key, stamp, req, r, token);
        return r;
    }

    private static Optional<ImaXattr> readXattr(int fd) throws LinuxException {
        return Xattr.get(fd, Xattr.SECURITY_IMA).map(ImaXattr::decode);
    }

    /**
     * Whether the verdict holds for every opener everywhere: every appraising scope's rules that may
     * cover the file are satisfied by it (it passes their requirements), every scope whose measure rules
     * may cover it has measured this version into their PCRs, the open does not write, and nothing
     * waits for a re-hash. With {@code knownOnly}, false where the cache does not hold a verdict (nothing
     * is hashed).
     */
    private boolean mayIgnore(PermissionEvent event, Policies p, FileFacts file, FileKey key, OptionalInt mask,
            boolean knownOnly, Writers writers) throws LinuxException {
        Coverage.OfFile coverage = p.coverage(file, ctx.config().hashAlgo());
        if (mask.isPresent() && AccessMask.mayWrite(mask) || ctx.rehash().isPending(key) || coverage.rehash()) {
            return false;
        }
        FileStamp stamp = FileStamp.of(event);
        for (AppraisalKey req : coverage.requirements()) {
            AppraisalResult r;
            if (knownOnly) {
                Optional<AppraisalResult> known = ctx.cache().get(key, stamp, req);
                if (known.isEmpty()) {
                    return false;
                }
                ctx.metrics().cacheHits.increment();
                r = known.get();
            } else {
                r = appraised(event, key, stamp, req);
            }
            // An enforcing scope refuses writers of a signed file: each open must be seen to tell.
            if (!r.passed() || r.signed() && coverage.enforce()) {
                return false;
            }
        }
        for (Scope s : coverage.auditScopes()) {
            if (!ctx.audited().audited(s.namespace(), key, stamp)) {
                return false;
            }
        }
        // The mark silences every namespace: each list that may take the file must hold this version.
        List<Coverage.MeasuredPcr> measuring = coverage.measurePcrs();
        for (Coverage.MeasuredPcr mp : measuring) {
            if (!ctx.measurements().measured(mp.scope().namespace(), key, stamp, mp.pcr())) {
                return false;
            }
        }
        // While a writer has it open, every measured reader's open is an open_writers violation to record.
        return measuring.isEmpty() || !writers.present();
    }

    /**
     * Whether the event's file is open for writing ({@code inode_is_open_for_write}, by a read lease
     * probe, {@link Leases#hasWriter}), asked at most once per decision: the mode, the violation check and
     * the ignore mark all want it.
     */
    private static final class Writers {
        private static final int UNKNOWN = Integer.MIN_VALUE;
        private final int fd;
        private int probe = UNKNOWN;

        Writers(int fd) {
            this.fd = fd;
        }

        private int probe() {
            if (probe == UNKNOWN) {
                probe = Leases.probe(fd);
            }
            return probe;
        }

        /** A writer was found; a probe that failed counts as none, as {@link Leases#hasWriter} has it. */
        boolean present() {
            return probe() == 1;
        }

        /** The probe ran and found no writer. */
        boolean absent() {
            return probe() == 0;
        }
    }

    private void audit(PermissionEvent event, Opener opener, Set<AppraisalResult> failures) {
        Subject subject = AuditFacts.subject(opener);
        UntrustedString name = AuditFacts.name(event.fd(), opener.pid());
        var inode = AuditFacts.inode(ctx.filesystems(), event.fd(), event.dev(), event.ino());
        Set<String> seen = new LinkedHashSet<>();
        for (AppraisalResult r : failures) {
            String op = r.op().orElse("appraise_data");
            String cause = r.causeText().orElse("unknown");
            if (seen.add(op + " " + cause)) {
                ctx.audit().submit(new IntegrityRecord(AuditType.INTEGRITY_DATA, subject, op, cause,
                        Optional.of(name), OptionalLong.of(opener.mntNs()), Optional.of(inode), false, 0));
            }
        }
    }

    private FileFacts fileFacts(PermissionEvent event) throws LinuxException {
        FilesystemTable table = ctx.filesystems();
        FilesystemTable.Superblock sb = event.uniqueMountId() == 0 ? null : table.ofMount(event.uniqueMountId());
        if (sb == null) {
            Stat.FsStat fs = Stat.fstatfs(event.fd());
            sb = new FilesystemTable.Superblock(fs.type(), table.of(event.dev(), fs).fsName(),
                    table.fsUuid(event.dev(), fs, event.fd()));
            table.learnMount(event.uniqueMountId(), sb);
        }
        return new FileFacts(sb.magic(), sb.fsName(), sb.uuid(),
                Integer.toUnsignedLong(event.uid()), Integer.toUnsignedLong(event.gid()),
                SelinuxLabels.wanted(ctx.policies()) ? SelinuxLabels.file(event.fd()) : null);
    }

    /**
     * The kernel's facts for this access. The mask is the open's {@code MAY_*} bits where the opener's
     * syscall shows them; otherwise MAY_EXEC for an exec, and MAY_READ for an open (documented limit:
     * a {@code mask=} rule is then judged as for a read-only open). The opener's SELinux context is
     * read when the file's was ({@link SelinuxLabels}).
     */
    private static AccessFacts accessFacts(Func func, Opener o, FileFacts file) throws LinuxException {
        int mask;
        if (func == Func.BPRM_CHECK) {
            mask = Mask.MAY_EXEC.bit();
        } else {
            mask = o.requestedMask().orElse(Mask.MAY_READ.bit());
        }
        return new AccessFacts(func, mask, file,
                Integer.toUnsignedLong(o.uid()), Integer.toUnsignedLong(o.euid()), Integer.toUnsignedLong(o.suid()),
                Integer.toUnsignedLong(o.gid()), Integer.toUnsignedLong(o.egid()), Integer.toUnsignedLong(o.sgid()),
                o.capSetuid(), o.capSetgid(), null, file.label() != null ? SelinuxLabels.task(o.pid()) : null);
    }

    /** Everything the decider and its helpers share, owned by {@link Enforcement}. */
    interface Context {
        Policies policies();

        EnforcementConfig config();

        IntegrityCache cache();

        RehashTracker rehash();

        FilesystemTable filesystems();

        AuditWriter audit();

        EnforcementMetrics metrics();

        Measurements measurements();

        /** What the read/write violation check knows of measured files and their readers. */
        Violations violations();

        /** The file versions each scope has written its audit rule record for. */
        AuditedFiles audited();

        /** Which registered namespaces an unregistered opener's namespace descends from. */
        NamespaceLineage lineage();

        /**
         * Ignore-marks the event's file unless it changed since its event, and drops the marks if it
         * changed while the mark was placed. {@code judgedUnder} is the policy snapshot the verdict
         * came from: a mark must not outlive a policy change that raced with it.
         */
        void ignoreChecked(PermissionEvent event, Policies judgedUnder);

        /**
         * Reads, on the calling thread, the writes and writable opens the engines' notification groups
         * hold now, so that caches forget what they name before the caller relies on them.
         */
        void catchUpModifications();
    }
}
