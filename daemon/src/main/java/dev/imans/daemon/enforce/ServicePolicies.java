package dev.imans.daemon.enforce;

import dev.imans.daemon.ns.NamespaceService;
import dev.imans.ns.NamespaceId;
import dev.imans.ns.PolicyTarget;
import dev.imans.policy.Policy;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalLong;

/**
 * The policies in force, from the daemon's namespace registry: the host's policy and mode, and for each
 * registered namespace its committed policy (none before the first commit) and its mode (under
 * {@code enforce_ns}: fix until its policy is first committed, then enforce). The host's policy verifies
 * signatures with the host's keys; a namespace's with the host's and its own ({@code <nsid>/keys}).
 */
public final class ServicePolicies implements PolicySource {
    private final NamespaceService service;
    private final EnforcementConfig config;

    /** The host's keys start as {@code config}'s; {@link NamespaceService#replaceHostKeys} changes them. */
    public ServicePolicies(NamespaceService service, EnforcementConfig config) {
        this.service = service;
        this.config = config;
        service.initHostKeys(config.keyring());
    }

    @Override
    public Policies current() {
        synchronized (service) {
            Scope host = new Scope(OptionalLong.empty(),
                    service.committedPolicy(PolicyTarget.HOST).orElse(Policy.empty()),
                    service.mode(PolicyTarget.HOST).orElseThrow(), config.rehashes("host"), service.hostKeys());
            Map<Long, Scope> namespaces = new HashMap<>();
            for (NamespaceId id : service.ids()) {
                PolicyTarget t = new PolicyTarget.Namespace(id);
                namespaces.put(id.inode(), new Scope(OptionalLong.of(id.inode()),
                        service.committedPolicy(t).orElse(Policy.empty()),
                        service.mode(t).orElseThrow(), config.rehashes(id.toString()),
                        service.hostKeys().plus(service.keyring(id))));
            }
            return new Policies(host, namespaces);
        }
    }
}
