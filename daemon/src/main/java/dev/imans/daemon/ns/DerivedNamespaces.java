package dev.imans.daemon.ns;

import dev.imans.ns.NamespaceId;
import java.util.Map;
import java.util.Set;

/**
 * Unregistered mount namespaces made from inside registered ones (by {@code unshare -m} and the like),
 * which stay under their ancestors' policies. The liveness scan tells it which namespaces live.
 */
@FunctionalInterface
public interface DerivedNamespaces {
    /**
     * One liveness scan: {@code counts} has every namespace with a process, {@code anyMember} one process of
     * each. Returns the registered namespaces that live descendants still need: they stay registered
     * (and pinned) while a descendant lives, even once their own last process has exited.
     */
    Set<NamespaceId> census(Map<NamespaceId, Integer> counts, Map<NamespaceId, Long> anyMember,
                            Set<NamespaceId> registered);

    DerivedNamespaces NONE = (counts, anyMember, registered) -> Set.of();
}
