package dev.imans.ns;

import dev.imans.appraise.AppraiseMode;
import dev.imans.policy.KernelProfile;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Registered mount namespaces and their policies: the state behind {@code ima/namespaces} and
 * {@code ima/<nsid>/policy} of the 2017 namespacing patches.
 *
 * <p>A namespace is either unregistered or registered (pinned, with a policy slot and an appraise
 * mode). Registering twice is a no-op, as in the patches ({@code handle_new_namespace_policy}
 * finds the id in its radix tree and returns success). Unregistering releases the pin and
 * detaches the slot, so a session still open on it can no longer commit.
 *
 * <p>Not thread-safe: the daemon serialises access.
 */
public final class NamespaceRegistry {
    private final AppraiseSetting setting;
    private final KernelProfile profile;
    private final PolicySlot host;
    private final Map<NamespaceId, Entry> entries = new TreeMap<>();

    /** @param setting the daemon-wide {@code --appraise} mode */
    public NamespaceRegistry(AppraiseSetting setting) {
        this(setting, KernelProfile.defaults());
    }

    /**
     * @param setting the daemon-wide {@code --appraise} mode
     * @param profile the kernel whose verdict every policy write gets
     */
    public NamespaceRegistry(AppraiseSetting setting, KernelProfile profile) {
        this.setting = setting;
        this.profile = profile;
        this.host = new PolicySlot(profile);
    }

    /** The kernel whose verdict every policy write gets. */
    public KernelProfile profile() {
        return profile;
    }

    /** The daemon-wide appraise setting. */
    public AppraiseSetting setting() {
        return setting;
    }

    /**
     * Registers {@code id}, keeping {@code pin} until it is unregistered.
     *
     * @return true if newly registered; false if it already was (then {@code pin} is released at once)
     */
    public boolean register(NamespaceId id, NamespacePin pin) {
        if (entries.containsKey(id)) {
            pin.release();
            return false;
        }
        entries.put(id, new Entry(pin, new PolicySlot(profile)));
        return true;
    }

    /** Unregisters {@code id}; returns false if it was not registered. */
    public boolean unregister(NamespaceId id) {
        Entry e = entries.remove(id);
        if (e == null) {
            return false;
        }
        e.slot.detach();
        e.pin.release();
        return true;
    }

    /** Unregisters everything (daemon shutdown). */
    public void clear() {
        for (NamespaceId id : List.copyOf(entries.keySet())) {
            unregister(id);
        }
    }

    public boolean isRegistered(NamespaceId id) {
        return entries.containsKey(id);
    }

    /** The registered namespaces, in id order. */
    public List<NamespaceId> ids() {
        return List.copyOf(entries.keySet());
    }

    /** The policy slot of {@code target}; empty for an unregistered namespace. */
    public Optional<PolicySlot> slot(PolicyTarget target) {
        return switch (target) {
            case PolicyTarget.Host h -> Optional.of(host);
            case PolicyTarget.Namespace n -> Optional.ofNullable(entries.get(n.id())).map(Entry::slot);
        };
    }

    /** The appraise mode {@code target} is in now; empty for an unregistered namespace. */
    public Optional<AppraiseMode> mode(PolicyTarget target) {
        return switch (target) {
            case PolicyTarget.Host h -> Optional.of(setting.forHost());
            case PolicyTarget.Namespace n -> Optional.ofNullable(entries.get(n.id()))
                    .map(e -> setting.forNamespace(e.slot.committed().isPresent()));
        };
    }

    /** A snapshot of every registration, in id order. */
    public List<Status> statuses() {
        List<Status> out = new ArrayList<>();
        entries.forEach((id, e) -> out.add(new Status(id,
                setting.forNamespace(e.slot.committed().isPresent()), e.slot.ruleCount(), e.slot.busy())));
        return out;
    }

    /** One registration as {@code imans ns list} shows it. */
    public record Status(NamespaceId id, AppraiseMode mode, int rules, boolean writerOpen) {}

    private record Entry(NamespacePin pin, PolicySlot slot) {}
}
