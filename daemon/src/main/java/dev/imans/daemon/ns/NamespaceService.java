package dev.imans.daemon.ns;

import dev.imans.daemon.Log;
import dev.imans.daemon.health.Condition;
import dev.imans.daemon.health.Health;
import dev.imans.daemon.state.JournalState;
import dev.imans.daemon.state.StateJournal;
import dev.imans.appraise.AppraiseMode;
import dev.imans.crypto.ImaCertificate;
import dev.imans.crypto.KeyId;
import dev.imans.crypto.Keyring;
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
import java.util.OptionalLong;
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
    private final Health health;
    /** The 64-bit id of each registered namespace, saved so a restore can tell it from a later namespace. */
    private final Map<NamespaceId, Long> mountNamespaceIds = new java.util.HashMap<>();
    private String lastError = "";
    /** The kernel's LSMs, against which LSM conditions are reported; read once, empty when unknown. */
    private final Optional<ActiveLsms> lsms;
    private final List<Runnable> changeListeners = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** The certificates written to each namespace's {@code keys} file, in the order they were added. */
    private final Map<NamespaceId, List<ImaCertificate>> keys = new java.util.HashMap<>();
    /** The keyring of each namespace's own certificates, built once per change. */
    private final Map<NamespaceId, Keyring> keyrings = new java.util.HashMap<>();

    /**
     * @param hostNamespace the mount namespace the host policy is for (the daemon's own); it
     *     cannot be registered, as the patches refuse the initial namespace
     */
    public NamespaceService(AppraiseSetting setting, Proc proc, StateJournal journal,
                            PolicyUpdateListener listener, NamespaceId hostNamespace) {
        this(setting, proc, journal, listener, hostNamespace, new Health());
    }

    /** As the other constructor, reporting degraded states (an unsaved journal) to {@code health}. */
    public NamespaceService(AppraiseSetting setting, Proc proc, StateJournal journal,
                            PolicyUpdateListener listener, NamespaceId hostNamespace, Health health) {
        this.health = health;
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
        Optional<Pinned> pinned = pin(id);
        if (pinned.isEmpty()) {
            Log.warn("namespace " + id + " has no live process; not registered");
            return Registration.NO_PROCESS;
        }
        add(id, pinned.get());
        // Enforcement first: a registration that cannot be saved is still in force (and the save is
        // retried), but the writer must not take the namespace for wholly enforced: its write fails (EIO).
        List<String> failures = enforceAndSave();
        if (!failures.isEmpty()) {
            throw new IOException(notApplied("namespace " + id, "registered", failures));
        }
        return Registration.REGISTERED;
    }

    /** A pinned namespace and the member it was pinned through. */
    private record Pinned(NsfsPin pin, long pid) {}

    /** Pins {@code id} through a live member; empty when it has none. */
    private Optional<Pinned> pin(NamespaceId id) {
        // A member can exit between the scan and the pin; try the next one then.
        for (int attempt = 0; attempt < 3; attempt++) {
            Optional<Long> member = proc.anyMember(id);
            if (member.isEmpty()) {
                break;
            }
            try {
                return Optional.of(new Pinned(NsfsPin.pin(member.get(), id), member.get()));
            } catch (IOException e) {
                continue;
            }
        }
        return Optional.empty();
    }

    private void add(NamespaceId id, Pinned p) {
        registry.register(id, p.pin());
        p.pin().mountNamespaceId().ifPresentOrElse(x -> mountNamespaceIds.put(id, x), () -> mountNamespaceIds.remove(id));
        Log.info("namespace " + id + " registered (pinned through pid " + p.pid() + ", id "
                + p.pin().mountNamespaceId().stream().mapToObj(Long::toUnsignedString).findFirst().orElse("unknown")
                + "), appraise mode " + registry.mode(new PolicyTarget.Namespace(id)).orElseThrow());
    }

    /** Unregisters {@code id}, releasing its pin; its directory disappears. */
    public synchronized boolean unregister(NamespaceId id, String why) throws IOException {
        if (!registry.unregister(id)) {
            return false;
        }
        mountNamespaceIds.remove(id);
        keys.remove(id);
        keyrings.remove(id);
        Log.info("namespace " + id + " unregistered: " + why);
        List<String> failures = changed();
        if (!failures.isEmpty()) {
            notApplied("namespace " + id, "unregistered", failures);
        }
        save();
        return true;
    }

    /**
     * Drops every registered namespace no process lives in any more. A namespace that looks
     * empty in {@code members} is looked for once more before it is dropped, so a process forked
     * while the scan ran is not missed.
     */
    public synchronized List<NamespaceId> pruneDead(Map<NamespaceId, Integer> members) throws IOException {
        return pruneDead(members, Set.of());
    }

    /**
     * As {@link #pruneDead(Map)}, keeping {@code needed} registered even without a process of their own: a
     * namespace made inside one of them still lives and is judged under its policy.
     */
    public synchronized List<NamespaceId> pruneDead(Map<NamespaceId, Integer> members, Set<NamespaceId> needed)
            throws IOException {
        List<NamespaceId> dropped = new ArrayList<>();
        for (NamespaceId id : registry.ids()) {
            if (members.getOrDefault(id, 0) == 0 && !needed.contains(id) && proc.anyMember(id).isEmpty()) {
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
    public synchronized Optional<SessionError> write(PolicyTarget target, PolicySession session, byte[] data,
                                                     Caller writer) {
        boolean before = session.failed();
        Optional<SessionError> error = session.write(data);
        if (!before) {
            error.ifPresent(e -> rejectedLine(target, e, writer));
        }
        return error;
    }

    /** What a policy file's close tells its writer. */
    public enum Commit {
        /** Committed and in force, or nothing new to commit: success. */
        DONE,
        /** The session failed (a bad rule, or its namespace is gone): EINVAL; nothing more of it is committed. */
        REJECTED,
        /**
         * Committed, but a part of putting it in force failed (see {@link #lastError}): EIO, so the
         * writer does not take it for enforced.
         */
        NOT_APPLIED
    }

    /**
     * A close(2) of one descriptor of a session's file (FUSE's FLUSH, which close(2) waits for):
     * the session's accepted rules, its unterminated last line included, are committed and every
     * change listener (enforcement's ignore-mark flush among them) has run before this returns.
     * Rules written later through another descriptor of the same open file commit at the next
     * flush or at {@link #close}.
     */
    public synchronized Commit flush(PolicyTarget target, PolicySession session, Caller writer) {
        return settle(target, session, writer, false);
    }

    /**
     * The last descriptor of a session's file is gone (FUSE's RELEASE, sent after close(2) has
     * returned): commits whatever is left as {@link #flush} does and frees the policy file for the
     * next writer. A session that committed no rule at all fails here, as in the kernel.
     */
    public synchronized Commit close(PolicyTarget target, PolicySession session, Caller writer) {
        return settle(target, session, writer, true);
    }

    private Commit settle(PolicyTarget target, PolicySession session, Caller writer, boolean last) {
        boolean before = session.failed();
        PolicySession.Outcome outcome = last ? session.close() : session.commit();
        if (!before) {
            // A bad unterminated last line is found here, not in a write.
            session.failure().filter(e -> e.line() > 0).ifPresent(e -> rejectedLine(target, e, writer));
        }
        return switch (outcome) {
            case PolicySession.Outcome.Accepted a -> {
                int inForce = registry.slot(target).map(PolicySlot::ruleCount).orElse(0);
                Log.info(target + " policy update completed: " + a.lines().size() + " rule(s) added, "
                        + inForce + " in force");
                List<String> failures = changed();
                try {
                    listener.policyUpdate(target, writer, Optional.empty());
                } catch (RuntimeException e) {
                    failures.add("policy update listener: " + e);
                }
                try {
                    save();
                } catch (IOException e) {
                    // Also a degraded state (retried); the writer hears of it.
                    failures.add("saving the state: " + e.getMessage());
                }
                // After the enforcement took the new policy: reporting must not delay it.
                logUnenforceable(target, a.rules());
                if (!failures.isEmpty()) {
                    notApplied(target.toString(), a.lines().size() + " rule(s) committed", failures);
                    yield Commit.NOT_APPLIED;
                }
                yield Commit.DONE;
            }
            case PolicySession.Outcome.Rejected r -> {
                if (r.first()) {
                    Log.warn(target + " policy update failed: " + r.error() + "; "
                            + (session.committedAny() ? "the rules committed at earlier closes stay, nothing more"
                                : "the previous policy stays in force"));
                    lastError = Instant.now() + " " + target + ": " + r.error() + "\n";
                    try {
                        listener.policyUpdate(target, writer, Optional.of(r.error()));
                    } catch (RuntimeException e) {
                        Log.error("policy update listener failed: " + e);
                    }
                }
                yield Commit.REJECTED;
            }
            case PolicySession.Outcome.Unchanged u -> Commit.DONE;
        };
    }

    /**
     * Records that a change was made but not wholly put in force: logged and shown in
     * {@code .imans/last_error}.
     *
     * @return the message
     */
    private String notApplied(String what, String done, List<String> failures) {
        String message = what + ": " + done + ", but putting it in force failed: " + String.join("; ", failures);
        Log.error(message);
        lastError = Instant.now() + " " + message + "\n";
        return message;
    }

    /** {@code target}'s committed policy as the kernel prints it; empty text before the first commit. */
    public synchronized Optional<String> policyText(PolicyTarget target) {
        return registry.slot(target).map(s -> s.committed().map(Policy::show).orElse(""));
    }

    /**
     * The last rejected policy session, {@code <time> <target>: <error>\n}, or the last change that
     * was made but not wholly put in force; empty text before either.
     */
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
            p.flatMap(this::gapSummary).ifPresent(g -> b.append(t).append(": ").append(g).append('\n'));
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
     * lock: it must be quick and must not wait for other threads that use this service. The change
     * is in force when the listeners have run: a registration's write or a policy file's close
     * returns only then. A listener that throws makes that write or close fail with EIO (and
     * {@link #lastError} say why): the writer must not take the change for enforced.
     */
    public void addChangeListener(Runnable r) {
        changeListeners.add(r);
    }

    /**
     * Puts the change in force ({@link #changed}), then saves the state; what failed of either. A change
     * that cannot be saved is still in force (the save is retried), but its writer is told (EIO).
     */
    private List<String> enforceAndSave() {
        List<String> failures = changed();
        try {
            save();
        } catch (IOException e) {
            failures.add("saving the state: " + e.getMessage());
        }
        return failures;
    }

    /** Runs every change listener, even after one fails; returns what failed. */
    private List<String> changed() {
        List<String> failures = new ArrayList<>();
        for (Runnable r : changeListeners) {
            try {
                r.run();
            } catch (RuntimeException e) {
                failures.add("change listener: " + e);
            }
        }
        return failures;
    }

    /** The host's keys: every policy verifies signatures with them ({@code --key}, {@code --key-dir}). */
    private Keyring hostKeys = Keyring.empty();

    public synchronized Keyring hostKeys() {
        return hostKeys;
    }

    /**
     * Puts {@code keys} in force as the host's keys, for every policy, when this returns (ignore marks
     * of files the old keys let through are dropped); returns what failed to take effect.
     */
    public synchronized List<String> replaceHostKeys(Keyring keys) {
        hostKeys = keys;
        return changed();
    }

    /** The host's keys before enforcement starts (nothing to notify yet). */
    public synchronized void initHostKeys(Keyring keys) {
        hostKeys = keys;
    }

    /** The namespace's own verification keys (empty for one without keys or not registered). */
    public synchronized Keyring keyring(NamespaceId id) {
        return keyrings.getOrDefault(id, Keyring.empty());
    }

    /** {@code <nsid>/keys}: one line per certificate ({@link ImaCertificate#line}); null when not registered. */
    public synchronized String keysText(NamespaceId id) {
        if (!registry.isRegistered(id)) {
            return null;
        }
        StringBuilder b = new StringBuilder();
        keys.getOrDefault(id, List.of()).forEach(c -> b.append(c.line()).append('\n'));
        return b.toString();
    }

    /** How many certificates the namespace holds. */
    public synchronized int keyCount(NamespaceId id) {
        return keys.getOrDefault(id, List.of()).size();
    }

    /**
     * A write of certificates to {@code <nsid>/keys} (each element of {@code writes} one DER certificate
     * or PEM text): each is admitted ({@link ImaCertificate}) or the
     * whole write is refused (EINVAL, the reason in {@link #lastError}) and the keys in force stay as
     * they were. Admitted keys are in force, for this namespace's policy only, when this returns, as a
     * policy is at its close; a certificate it holds already is not added twice.
     */
    public synchronized Commit addKeys(NamespaceId id, List<byte[]> writes, Caller writer) {
        PolicyTarget target = new PolicyTarget.Namespace(id);
        if (!registry.isRegistered(id)) {
            return keysRejected(id, "namespace " + id + " is not registered", writer);
        }
        // Each element is one certificate (DER or PEM text) or one "remove <key id>" line, in write order.
        List<ImaCertificate> mine = new ArrayList<>(keys.getOrDefault(id, List.of()));
        List<String> changes = new ArrayList<>();
        Instant now = Instant.now();
        try {
            for (byte[] data : writes) {
                if (data.length > 0 && data[0] == 'r') {
                    KeyId gone = removal(data);
                    List<ImaCertificate> removed = mine.stream().filter(c -> c.keyId().equals(gone)).toList();
                    if (removed.isEmpty()) {
                        throw new IllegalArgumentException("remove " + gone.hex() + ": the namespace holds no key"
                                + " with that id");
                    }
                    mine.removeAll(removed);
                    removed.forEach(c -> changes.add("removed: " + c.line()));
                    continue;
                }
                for (ImaCertificate c : ImaCertificate.admitAll(data, "certificate", now)) {
                    if (mine.stream().noneMatch(c::sameAs)) {
                        mine.add(c);
                        changes.add("added: " + c.line());
                    }
                }
            }
        } catch (IllegalArgumentException e) {
            return keysRejected(id, e.getMessage(), writer);
        }
        if (changes.isEmpty()) {
            return Commit.DONE;
        }
        changes.forEach(c -> Log.info(target + " key " + c.replaceFirst(":", " by pid " + writer.pid() + ":")));
        keys.put(id, mine);
        keyrings.put(id, Keyring.of(mine.stream().map(ImaCertificate::key).toList()));
        // A key taken away is in force when this returns as one added is: enforceAndSave drops the ignore
        // marks of files it let through, and verdicts are cached per keyring.
        List<String> failures = enforceAndSave();
        if (!failures.isEmpty()) {
            notApplied(target + " keys", changes.size() + " key change(s)", failures);
            return Commit.NOT_APPLIED;
        }
        return Commit.DONE;
    }

    /** {@code remove <key id>} (the id the keys file lists, as {@code keyctl unlink} takes a key). */
    private static KeyId removal(byte[] line) {
        String text = new String(line, java.nio.charset.StandardCharsets.ISO_8859_1).strip();
        String[] words = text.split("[ \t]+");
        if (words.length != 2 || !words[0].equals("remove")) {
            throw new IllegalArgumentException("'" + text + "' is neither a certificate nor 'remove <key id>'");
        }
        return KeyId.parse(words[1]);
    }

    /** Records why a write to {@code <nsid>/keys} was refused (EINVAL); the keys in force stay. */
    public synchronized Commit keysRejected(NamespaceId id, String why, Caller writer) {
        Log.warn("namespace " + id + " keys write by pid " + writer.pid() + " rejected: " + why
                + "; the keys in force stay");
        lastError = Instant.now() + " namespace " + id + " keys: " + why + "\n";
        return Commit.REJECTED;
    }

    /** The appraise mode of the host. */
    public synchronized AppraiseMode hostMode() {
        return registry.mode(PolicyTarget.HOST).orElseThrow();
    }

    /** One line of {@code imans ns list}. */
    public record Listed(NamespaceRegistry.Status status, int processes) {}

    /**
     * Restores a saved state: the host policy, and every namespace that is still the namespace that was
     * saved (same boot, same 64-bit mount namespace id) and still has a live process, with its policy;
     * the others are dropped, one log line each. An inode number alone proves nothing: the kernel gives it
     * to a new namespace as soon as the old one ends, so an entry saved without its id (an older state
     * file, or a kernel before 6.11) cannot be told from a stranger and is dropped too. Then saves the result.
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
        Map<NamespaceId, List<ImaCertificate>> savedKeys = parseSavedKeys(state);
        Optional<String> boot = proc.bootId();
        for (var e : state.namespaces().entrySet()) {
            NamespaceId id = e.getKey();
            String dropped = restoreOne(id, state, boot);
            if (dropped == null) {
                if (policies.containsKey(id)) {
                    registry.slot(new PolicyTarget.Namespace(id)).orElseThrow().restore(policies.get(id), e.getValue());
                    logUnenforceable(new PolicyTarget.Namespace(id), policies.get(id));
                }
                List<ImaCertificate> certs = savedKeys.getOrDefault(id, List.of());
                if (!certs.isEmpty()) {
                    keys.put(id, new ArrayList<>(certs));
                    keyrings.put(id, Keyring.of(certs.stream().map(ImaCertificate::key).toList()));
                }
                Log.info("namespace " + id + " restored with " + e.getValue().size() + " rule(s) and "
                        + keyCount(id) + " key(s)");
            } else {
                Log.warn("namespace " + id + " dropped on restore (" + e.getValue().size() + " rule(s) and its"
                        + " measurement list): " + dropped);
            }
        }
        List<String> failures = changed();
        if (!failures.isEmpty()) {
            notApplied("restored state", "loaded", failures);
        }
        try {
            save();
        } catch (IOException e) {
            // The restored state is in force; the save is retried (a full state disk must not stop
            // the daemon from enforcing).
        }
    }

    /**
     * The saved certificates of each namespace, admitted again but for their dates: they were in force
     * when saved, and a restart must not change what is enforced.
     */
    private static Map<NamespaceId, List<ImaCertificate>> parseSavedKeys(JournalState state) throws IOException {
        Map<NamespaceId, List<ImaCertificate>> out = new LinkedHashMap<>();
        for (var e : state.keys().entrySet()) {
            List<ImaCertificate> certs = new ArrayList<>();
            for (String b64 : e.getValue()) {
                try {
                    certs.add(ImaCertificate.restore(java.util.Base64.getDecoder().decode(b64),
                            "saved key of namespace " + e.getKey()));
                } catch (IllegalArgumentException ex) {
                    throw new IOException(ex.getMessage() + " (no longer usable)", ex);
                }
            }
            out.put(e.getKey(), certs);
        }
        return out;
    }

    /** Registers saved namespace {@code id} if it is provably the one saved; else says why not. */
    private String restoreOne(NamespaceId id, JournalState state, Optional<String> boot) {
        if (id.equals(hostNamespace)) {
            return "it is now the host's own namespace";
        }
        if (registry.isRegistered(id)) {
            return "listed twice";
        }
        Long saved = state.mountNamespaceIds().get(id);
        if (saved == null || state.bootId().isEmpty()) {
            return "saved without its mount namespace id or boot id (an older state file or kernel), so nsfs"
                    + " inode " + id + " may now be another namespace";
        }
        if (boot.isEmpty() || !boot.equals(state.bootId())) {
            return "saved in boot " + state.bootId().get() + ", this is boot " + boot.orElse("(unknown)");
        }
        Optional<Pinned> pinned = pin(id);
        if (pinned.isEmpty()) {
            return "no process lives in it any more";
        }
        OptionalLong now = pinned.get().pin().mountNamespaceId();
        if (now.isEmpty() || now.getAsLong() != saved) {
            pinned.get().pin().release();
            return "nsfs inode " + id + " now belongs to another namespace (id "
                    + (now.isEmpty() ? "unknown" : Long.toUnsignedString(now.getAsLong())) + ", saved "
                    + Long.toUnsignedString(saved) + ")";
        }
        add(id, pinned.get());
        return null;
    }

    /** Logs each reason a rule of {@code rules}, now in force for {@code target}, is not enforceable here. */
    private void logUnenforceable(PolicyTarget target, Policy rules) {
        for (Rule r : rules.rules()) {
            for (PolicyWarning w : Enforceability.warnings(r, lsms)) {
                Log.warn(target + " rule \"" + r.show().strip() + "\" is not enforced as written: " + w.message());
            }
        }
        gapSummary(rules).ifPresent(g -> Log.warn(target + " policy misses files imans cannot see: " + g));
    }

    /** Whether the daemon judges opens of memfds (the kernel accepted a mark on its internal tmpfs). */
    private volatile boolean memfdsJudged;
    /** Whether the exec guard judges execs of memfds (appraisal only: it cannot measure them). */
    private volatile boolean memfdExecsGuarded;

    /**
     * Set once enforcement has tried the mark and the exec guard: where the mark holds, a rule covering
     * memfds misses nothing; where the guard holds, only {@code measure} rules miss them.
     */
    public void memfdsJudged(boolean judged, boolean execsGuarded) {
        memfdsJudged = judged;
        memfdExecsGuarded = execsGuarded;
    }

    /**
     * What the policy's rules cover that the daemon cannot see ({@link Enforceability#gaps}: programs
     * executed from memfds, unless their filesystem is marked), in one line however many rules share it:
     * the first such rule and how many there are.
     */
    private Optional<String> gapSummary(Policy policy) {
        if (memfdsJudged) {
            return Optional.empty();
        }
        Rule first = null;
        String why = null;
        int count = 0;
        for (Rule r : policy.rules()) {
            List<PolicyWarning> g = Enforceability.gaps(r, memfdExecsGuarded ? Enforceability.MemfdExecs.GUARDED
                    : Enforceability.MemfdExecs.UNJUDGED);
            if (!g.isEmpty()) {
                if (first == null) {
                    first = r;
                    why = g.getFirst().message();
                }
                count++;
            }
        }
        return first == null ? Optional.empty()
                : Optional.of(first.show().strip() + (count > 1 ? " (and " + (count - 1) + " more rule(s))" : "")
                        + ": " + why);
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

    /**
     * Saves the registrations and policies in force; on failure the daemon is in a degraded state
     * ({@link Condition#STATE_UNSAVED}) that a retry of this save clears.
     */
    private void save() throws IOException {
        try {
            saveNow();
        } catch (IOException e) {
            health.degrade(Condition.STATE_UNSAVED, "", "cannot save " + journal.file() + ": " + e.getMessage()
                    + "; a restart would lose the changes since", Optional.of(this::saveNow));
            throw e;
        }
        health.recover(Condition.STATE_UNSAVED, "");
    }

    private synchronized void saveNow() throws IOException {
        Map<NamespaceId, List<String>> namespaces = new LinkedHashMap<>();
        Map<NamespaceId, Long> ids = new LinkedHashMap<>();
        Map<NamespaceId, List<String>> savedKeys = new LinkedHashMap<>();
        for (NamespaceId id : registry.ids()) {
            savedKeys.put(id, keys.getOrDefault(id, List.of()).stream()
                    .map(c -> java.util.Base64.getEncoder().encodeToString(c.der())).toList());
            namespaces.put(id, registry.slot(new PolicyTarget.Namespace(id)).orElseThrow().committedLines());
            Long nsId = mountNamespaceIds.get(id);
            if (nsId != null) {
                ids.put(id, nsId);
            }
        }
        journal.save(new JournalState(registry.slot(PolicyTarget.HOST).orElseThrow().committedLines(), namespaces,
                proc.bootId(), ids, savedKeys));
    }

    /** The daemon's degraded states. */
    public Health health() {
        return health;
    }

    /**
     * Releases every pin without touching the journal (daemon shutdown): the registrations stay
     * saved and are restored by the next start.
     */
    public synchronized void releaseAll() {
        registry.clear();
        mountNamespaceIds.clear();
        keys.clear();
        keyrings.clear();
    }
}
