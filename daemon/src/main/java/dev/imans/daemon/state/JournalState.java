package dev.imans.daemon.state;

import dev.imans.ns.NamespaceId;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * What survives a daemon restart: the committed host policy and every registered namespace with
 * its committed policy, each as the rule lines that were accepted.
 *
 * <p>A namespace is named by its nsfs inode number, which the kernel gives to a new namespace as soon
 * as the old one is gone. So each is saved with what is never reused within a boot: its 64-bit mount
 * namespace id ({@code NS_GET_MNTNS_ID}), and the state with the boot it was saved in
 * ({@code /proc/sys/kernel/random/boot_id}). A restore keeps a namespace only when both still match.
 *
 * @param bootId the boot the state was saved in; empty when unknown (an older state file)
 * @param mountNamespaceIds the 64-bit id of each namespace that had one when saved
 * @param keys the certificates written to each namespace's {@code keys} file, base64 DER, in the order
 *     they were added
 */
public record JournalState(List<String> hostPolicy, Map<NamespaceId, List<String>> namespaces,
                           Optional<String> bootId, Map<NamespaceId, Long> mountNamespaceIds,
                           Map<NamespaceId, List<String>> keys) {
    public JournalState {
        hostPolicy = List.copyOf(hostPolicy);
        Map<NamespaceId, List<String>> copy = new TreeMap<>();
        namespaces.forEach((id, rules) -> copy.put(id, List.copyOf(rules)));
        namespaces = java.util.Collections.unmodifiableMap(copy);
        mountNamespaceIds = java.util.Collections.unmodifiableMap(new TreeMap<>(mountNamespaceIds));
        Map<NamespaceId, List<String>> keyCopy = new TreeMap<>();
        keys.forEach((id, certs) -> {
            if (!certs.isEmpty()) {
                keyCopy.put(id, List.copyOf(certs));
            }
        });
        keys = java.util.Collections.unmodifiableMap(keyCopy);
    }

    /** A state without namespace keys. */
    public JournalState(List<String> hostPolicy, Map<NamespaceId, List<String>> namespaces,
                        Optional<String> bootId, Map<NamespaceId, Long> mountNamespaceIds) {
        this(hostPolicy, namespaces, bootId, mountNamespaceIds, Map.of());
    }

    /** A state without identities (as the first state file format saved it). */
    public JournalState(List<String> hostPolicy, Map<NamespaceId, List<String>> namespaces) {
        this(hostPolicy, namespaces, Optional.empty(), Map.of());
    }

    public static JournalState empty() {
        return new JournalState(List.of(), Map.of());
    }
}
