package dev.imans.daemon.audit;

import dev.imans.audit.StatusRecord;
import dev.imans.audit.Subject;
import dev.imans.daemon.ns.Caller;
import dev.imans.daemon.ns.PolicyUpdateListener;
import dev.imans.ns.PolicyTarget;
import dev.imans.ns.SessionError;
import java.util.Optional;

/**
 * The kernel's policy status records (type 1802, {@code op=policy_update} and {@code op=update_policy})
 * through the daemon's {@link AuditWriter}, so they share its serials and sinks with the appraisal
 * records.
 */
public final class PolicyUpdateAudit implements PolicyUpdateListener {
    private final AuditWriter writer;

    public PolicyUpdateAudit(AuditWriter writer) {
        this.writer = writer;
    }

    @Override
    public void ruleRejected(PolicyTarget target, Caller caller, SessionError error) {
        writer.submit(StatusRecord.invalidPolicy(subject(caller)));
    }

    @Override
    public void policyUpdate(PolicyTarget target, Caller caller, Optional<SessionError> error) {
        writer.submit(StatusRecord.policyUpdate(subject(caller), error.isEmpty()));
    }

    private static Subject subject(Caller c) {
        return Subject.of((int) c.pid(), Integer.toUnsignedLong(c.uid()), c.auid(), c.ses(), c.comm());
    }
}
