package dev.imans.daemon.enforce;

import dev.imans.appraise.AppraiseMode;
import dev.imans.crypto.Keyring;
import dev.imans.policy.Policy;
import java.util.OptionalLong;

/**
 * One policy in force: the host's or a registered namespace's, with the appraise mode it runs in
 * now and whether a writer it appraised gets its file re-hashed on close (mainline IMA's behaviour;
 * off by default, where any change leaves the file unopenable until it is labelled again, as in the
 * seed's transcript).
 *
 * @param namespace the namespace's nsfs inode, empty for the host
 * @param keyring the keys that verify signatures for this policy: the host's, and for a namespace
 *     also its own
 */
public record Scope(OptionalLong namespace, Policy policy, AppraiseMode mode, boolean rehashOnClose,
                    Keyring keyring) {
    public boolean isHost() {
        return namespace.isEmpty();
    }

    /** Whether a rule of this policy tests the opener's ids ({@code uid= euid= gid= egid=}). */
    public boolean testsIds() {
        return policy.testsIds();
    }

    /** Whether a rule of this policy tests the open mask ({@code mask=}). */
    public boolean testsMask() {
        return policy.testsMask();
    }

    /** Whether the policy has a {@code measure} rule (the kernel's {@code ima_policy_flag & IMA_MEASURE}). */
    public boolean measures() {
        return policy.has(dev.imans.policy.Action.MEASURE);
    }

    /** {@code host} or the namespace id, for logs. */
    public String label() {
        return namespace.isEmpty() ? "host" : "namespace " + namespace.getAsLong();
    }
}
