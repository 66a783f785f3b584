package dev.imans.daemon.ns;

import dev.imans.daemon.Log;
import dev.imans.daemon.state.JournalState;
import dev.imans.daemon.state.StateJournal;
import dev.imans.appraise.AppraiseMode;
import dev.imans.ns.AppraiseSetting;
import dev.imans.ns.NamespaceId;
import dev.imans.ns.NamespaceRegistry;
import dev.imans.ns.PolicySession;
import dev.imans.ns.PolicySlot;
import dev.imans.ns.PolicyTarget;
import dev.imans.ns.SessionError;
import dev.imans.linux.Lsms;
import dev.imans.policy.ActiveLsms;
import dev.imans.policy.Enforceability;
import dev.imans.policy.KernelProfile;
import dev.imans.policy.LsmKey;
import dev.imans.policy.Policy;
import dev.imans.policy.PolicyException;
import dev.imans.policy.PolicyParser;
import dev.imans.policy.PolicyWarning;
import dev.imans.policy.Rule;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The daemon's namespace registry with its side effects: pinning, journaling, logging and
 * auditing. Every method is synchronized: the FUSE loop thread and the liveness watcher share it.
 */
public final class NamespaceService {
    private final NamespaceRegistry registry;
    private final Proc proc;
    private final StateJournal journal;
    private final PolicyUpdateListener listener;
    private final NamespaceId hostNamespace;
    private String lastError = "";
    /** The kernel's LSMs, against which LSM conditions are reported; read once, empty when unknown. */
    private final Optional<ActiveLsms> lsms;
    private final List<Runnable> changeListeners = new java.util.concurrent.CopyOnWriteArrayList<>();

    /**
     * @param hostNamespace the mount namespace the host policy is for (the daemon's own); it
     *     cannot be registered, as the patches refuse the initial namespace
     */
    public NamespaceService(AppraiseSetting setting, Proc proc, StateJournal journal,
                            PolicyUpdateListener listener, NamespaceId hostNamespace) {
        this.lsms = Lsms.active().map(ActiveLsms::new);
        this.registry = new NamespaceRegistry(setting, profile(lsms));
        this.proc = proc;
        this.journal = journal;
        this.listener = listener;
        this.hostNamespace = hostNamespace;
    }

    /** The result of writing a namespace id to {@code namespaces}. */
    public enum Registration {
        /** Newly registered. */
        REGISTERED,
        /** Was registered already: success, nothing changes (as in the patches). */
        ALREADY_REGISTERED,
        /** No live process is in it: ENOENT. */
        NO_PROCESS,
        /** The host's own namespace, whose policy is {@code policy}: EINVAL. */
        HOST_NAMESPACE
    }

    /**
     * The kernel whose verdict policy writes get: the reference, also accepting the LSM conditions the
     * running kernel's LSMs build (SELinux's are judged here), so a policy for this host is not refused
     * for conditions its kernel would take.
     */
    static KernelProfile profile(Optional<ActiveLsms> lsms) {
        KernelProfile reference = KernelProfile.defaults();
        if (lsms.isEmpty()) {
            return reference;
        }
        Set<LsmKey> keys = EnumSet.noneOf(LsmKey.class);
        keys.addAll(reference.lsmRules());
        keys.addAll(lsms.get().ruleKeys());
        return reference.withLsmRules(keys);
    }

    /** Registers {@code id} if a live process is in it, pinning it. */
    public synchronized Registration register(NamespaceId id) throws IOException {
        if (id.equals(hostNamespace)) {
            Log.warn("namespace " + id + " is the host's own mount namespace; its policy is the host policy");
            return Registration.HOST_NAMESPACE;
        }
        if (registry.isRegistered(id)) {
            Log.info("namespace " + id + " is already registered");
            return Registration.ALREADY_REGISTERED;
        }
        // A member can exit between the scan and the pin; try the next one then.
        for (int attempt = 0; attempt < 3; attempt++) {
            Optional<Long> member = proc.anyMember(id);
            if (member.isEmpty()) {
                break;
            }
            NsfsPin pin;
            try {
                pin = NsfsPin.pin(member.get(), id);
            } catch (IOException e) {
                continue;
            }
            registry.register(id, pin);
            Log.info("namespace " + id + " registered (pinned through pid " + member.get() + "), appraise mode "
                    + registry.mode(new PolicyTarget.Namespace(id)).orElseThrow());
            save();
            changed();
            return Registration.REGISTERED;
        }
        Log.warn("namespace " + id + " has no live process; not registered");
        return Registration.NO_PROCESS;
    }

    /** Unregisters {@code id}, releasing its pin; its directory disappears. */
    public synchronized boolean unregister(NamespaceId id, String why) throws IOException {
        if (!registry.unregister(id)) {
            return false;
        }
        Log.info("namespace " + id + " unregistered: " + why);
        save();
        changed();
        return true;
    }

    /**
     * Drops every registered namespace no process lives in any more. A namespace that looks
     * empty in {@code members} is looked for once more before it is dropped, so a process forked
     * while the scan ran is not missed.
     */
    public synchronized List<NamespaceId> pruneDead(Map<NamespaceId, Integer> members) throws IOException {
        List<NamespaceId> dropped = new ArrayList<>();
        for (NamespaceId id : registry.ids()) {
            if (members.getOrDefault(id, 0) == 0 && proc.anyMember(id).isEmpty()) {
                unregister(id, "its last process exited");
                dropped.add(id);
            }
        }
        return dropped;
    }

    public synchronized boolean isRegistered(NamespaceId id) {
        return registry.isRegistered(id);
    }

    public synchronized List<NamespaceId> ids() {
        return registry.ids();
    }

    /** Opens a write session on {@code target}'s policy; empty when a writer already has it (EBUSY). */
    public synchronized Optional<PolicySession> openSession(PolicyTarget target) {
        return registry.slot(target).flatMap(PolicySlot::openSession);
    }

    /** Whether {@code target} exists (the host always does). */
    public synchronized boolean exists(PolicyTarget target) {
        return registry.slot(target).isPresent();
    }

    /** Feeds a {@code write()} to a session; an error means the write fails with EINVAL. */
    public synchronized PolicySession.Written write(PolicyTarget target, PolicySession session, byte[] data,
                                                    Caller writer) {
        boolean before = session.failed();
        PolicySession.Written written = session.write(data);
        if (!before) {
            written.error().ifPresent(e -> rejectedLine(target, e, writer));
        }
        return written;
    }

    /** A {@code close()} (flush) of a session's file; an error means the close fails with EINVAL. */
    public synchronized Optional<SessionError> flush(PolicySession session) {
        return session.flush();
    }

    /** Closes a write session: commits or discards it, then logs, audits and journals. */
    public synchronized PolicySession.Outcome close(PolicyTarget target, PolicySession session, Caller writer) {
        Optional<PolicySlot> slot = registry.slot(target);
        PolicySession.Outcome outcome;
        if (slot.isPresent()) {
            outcome = slot.get().close(session);
        } else {
            session.finish();
            outcome = new PolicySession.Outcome.Rejected(new SessionError(0, 0, "namespace no longer registered"));
        }
        switch (outcome) {
            case PolicySession.Outcome.Accepted a -> {
                Log.info(target + " policy update completed: " + a.lines().size() + " rule(s) added, "
                        + slot.orElseThrow().ruleCount() + " in force");
                listener.policyUpdate(target, writer, Optional.empty());
                changed();
                try {
                    save();
                } catch (IOException e) {
                    Log.error("cannot save state: " + e.getMessage());
                }
                // After the enforcement took the new policy: reporting must not delay it.
                logUnenforceable(target, a.rules());
            }
            case PolicySession.Outcome.Rejected r -> {
                Log.warn(target + " policy update failed: " + r.error() + "; the previous policy stays in force");
                lastError = Instant.now() + " " + target + ": " + r.error() + "\n";
                listener.policyUpdate(target, writer, Optional.of(r.error()));
            }
        }
        return outcome;
    }

    /** {@code target}'s committed policy as the kernel prints it; empty text before the first commit. */
    public synchronized Optional<String> policyText(PolicyTarget target) {
        return registry.slot(target).map(s -> s.committed().map(Policy::show).orElse(""));
    }

    /** The last rejected policy session, {@code <time> <target>: <error>\n}, or empty text. */
    public synchronized String lastError() {
        return lastError;
    }

    /**
     * {@code .imans/warnings}: one line per reason a rule in force is not enforceable here,
     * {@code <target>: <rule>: <why>}, the host's first, then each namespace's; empty text when every rule is.
     */
    public synchronized String warnings() {
        StringBuilder b = new StringBuilder();
        List<PolicyTarget> targets = new ArrayList<>();
        targets.add(PolicyTarget.HOST);
        registry.ids().forEach(id -> targets.add(new PolicyTarget.Namespace(id)));
        for (PolicyTarget t : targets) {
            Optional<Policy> p = registry.slot(t).flatMap(PolicySlot::committed);
            for (Rule r : p.map(Policy::rules).orElse(List.of())) {
                for (PolicyWarning w : Enforceability.warnings(r, lsms)) {
                    b.append(t).append(": ").append(r.show().strip()).append(": ").append(w.message()).append('\n');
                }
            }
        }
        return b.toString();
    }

    /** Every registration with its live process count. */
    public List<Listed> list() {
        Map<NamespaceId, Integer> members = proc.membersByNamespace();
        synchronized (this) {
            List<Listed> out = new ArrayList<>();
            for (NamespaceRegistry.Status s : registry.statuses()) {
                out.add(new Listed(s, members.getOrDefault(s.id(), 0)));
            }
            return out;
        }
    }

    /** The committed policy of {@code target}; empty before its first commit or when it is not registered. */
    public synchronized Optional<Policy> committedPolicy(PolicyTarget target) {
        return registry.slot(target).flatMap(PolicySlot::committed);
    }

    /** The appraise mode {@code target} is in now; empty for an unregistered namespace. */
    public synchronized Optional<AppraiseMode> mode(PolicyTarget target) {
        return registry.mode(target);
    }

    /**
     * Runs {@code r} after every change that affects enforcement: a registration, an unregistration, a
     * committed policy, a restore. It runs on the thread that made the change, holding this service's
     * lock: it must be quick and must not wait for other threads that use this service.
     */
    public void addChangeListener(Runnable r) {
        changeListeners.add(r);
    }

    private void changed() {
        for (Runnable r : changeListeners) {
            try {
                r.run();
            } catch (RuntimeException e) {
                Log.error("change listener failed: " + e);
            }
        }
    }

    /** The appraise mode of the host. */
    public synchronized AppraiseMode hostMode() {
        return registry.mode(PolicyTarget.HOST).orElseThrow();
    }

    /** One line of {@code imans ns list}. */
    public record Listed(NamespaceRegistry.Status status, int processes) {}

    /**
     * Restores a saved state: the host policy, and every namespace that still has a live process
     * (with its policy); the others are dropped and logged. Then saves the result.
     *
     * @throws IOException if a saved policy no longer parses (nothing is dropped silently)
     */
    public synchronized void restore(JournalState state) throws IOException {
        if (!state.hostPolicy().isEmpty()) {
            registry.slot(PolicyTarget.HOST).orElseThrow()
                    .restore(parseSaved("host", state.hostPolicy()), state.hostPolicy());
            Log.info("host policy restored: " + state.hostPolicy().size() + " rule(s)");
            registry.slot(PolicyTarget.HOST).flatMap(PolicySlot::committed)
                    .ifPresent(p -> logUnenforceable(PolicyTarget.HOST, p));
        }
        Map<NamespaceId, Policy> policies = new LinkedHashMap<>();
        for (var e : state.namespaces().entrySet()) {
            if (!e.getValue().isEmpty()) {
                policies.put(e.getKey(), parseSaved("namespace " + e.getKey(), e.getValue()));
            }
        }
        for (var e : state.namespaces().entrySet()) {
            NamespaceId id = e.getKey();
            Registration r = register(id);
            if (r == Registration.REGISTERED) {
                if (policies.containsKey(id)) {
                    registry.slot(new PolicyTarget.Namespace(id)).orElseThrow().restore(policies.get(id), e.getValue());
                    logUnenforceable(new PolicyTarget.Namespace(id), policies.get(id));
                }
                Log.info("namespace " + id + " restored with " + e.getValue().size() + " rule(s)");
            } else {
                Log.warn("namespace " + id + " dropped on restore: "
                        + (r == Registration.NO_PROCESS ? "no process lives in it any more" : r.name()));
            }
        }
        save();
        changed();
    }

    /** Logs each reason a rule of {@code rules}, now in force for {@code target}, is not enforceable here. */
    private void logUnenforceable(PolicyTarget target, Policy rules) {
        for (Rule r : rules.rules()) {
            for (PolicyWarning w : Enforceability.warnings(r, lsms)) {
                Log.warn(target + " rule \"" + r.show().strip() + "\" is not enforced as written: " + w.message());
            }
        }
    }

    private Policy parseSaved(String what, List<String> lines) throws IOException {
        try {
            return PolicyParser.parse(String.join("\n", lines), registry.profile());
        } catch (PolicyException e) {
            throw new IOException("saved " + what + " policy does not parse any more: " + e.getMessage(), e);
        }
    }

    private void rejectedLine(PolicyTarget target, SessionError e, Caller writer) {
        Log.warn(target + " policy write rejected: " + e);
        lastError = Instant.now() + " " + target + ": " + e + "\n";
        listener.ruleRejected(target, writer, e);
    }

    private void save() throws IOException {
        Map<NamespaceId, List<String>> namespaces = new LinkedHashMap<>();
        for (NamespaceId id : registry.ids()) {
            namespaces.put(id, registry.slot(new PolicyTarget.Namespace(id)).orElseThrow().committedLines());
        }
        journal.save(new JournalState(registry.slot(PolicyTarget.HOST).orElseThrow().committedLines(), namespaces));
    }

    /**
     * Releases every pin without touching the journal (daemon shutdown): the registrations stay
     * saved and are restored by the next start.
     */
    public synchronized void releaseAll() {
        registry.clear();
    }
}
