package dev.imans.daemon.ns;

import dev.imans.ns.PolicyTarget;
import dev.imans.ns.SessionError;
import java.util.Optional;

/**
 * Told about policy write sessions as the kernel audits them: each rejected rule
 * ({@code update_policy}) and each closed session ({@code policy_update}).
 */
public interface PolicyUpdateListener {
    /** A written line was rejected; the session will fail. */
    void ruleRejected(PolicyTarget target, Caller writer, SessionError error);

    /**
     * A session was closed.
     *
     * @param writer the process that opened the policy file for writing
     * @param error why the session was rejected; empty when it was committed
     */
    void policyUpdate(PolicyTarget target, Caller writer, Optional<SessionError> error);

    /** Tells no one. */
    PolicyUpdateListener NONE = new PolicyUpdateListener() {
        @Override
        public void ruleRejected(PolicyTarget target, Caller writer, SessionError error) {
        }

        @Override
        public void policyUpdate(PolicyTarget target, Caller writer, Optional<SessionError> error) {
        }
    };
}
