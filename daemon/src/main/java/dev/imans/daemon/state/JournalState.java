package dev.imans.daemon.state;

import dev.imans.ns.NamespaceId;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What survives a daemon restart: the committed host policy and every registered namespace with
 * its committed policy, each as the rule lines that were accepted.
 */
public record JournalState(List<String> hostPolicy, Map<NamespaceId, List<String>> namespaces) {
    public JournalState {
        hostPolicy = List.copyOf(hostPolicy);
        Map<NamespaceId, List<String>> copy = new TreeMap<>();
        namespaces.forEach((id, rules) -> copy.put(id, List.copyOf(rules)));
        namespaces = java.util.Collections.unmodifiableMap(copy);
    }

    public static JournalState empty() {
        return new JournalState(List.of(), Map.of());
    }
}
