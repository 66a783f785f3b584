package dev.imans.daemon.enforce;

import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which file versions each scope has written its {@code audit} rule record for: the kernel's
 * {@code IMA_AUDITED} flag (ima_audit_measurement in ima_api.c), kept per scope as measurements are.
 * A version is the file's stamp; a changed file is audited again.
 */
final class AuditedFiles {
    private record Entry(OptionalLong scope, FileKey file) {}

    private final ConcurrentHashMap<Entry, FileStamp> audited = new ConcurrentHashMap<>();

    /** Whether {@code scope} has audited this version of the file. */
    boolean audited(OptionalLong scope, FileKey file, FileStamp stamp) {
        return stamp.equals(audited.get(new Entry(scope, file)));
    }

    /** Takes the audit of this version for the caller; false when another event took it first. */
    boolean claim(OptionalLong scope, FileKey file, FileStamp stamp) {
        Entry e = new Entry(scope, file);
        while (true) {
            FileStamp old = audited.get(e);
            if (stamp.equals(old)) {
                return false;
            }
            if (old == null ? audited.putIfAbsent(e, stamp) == null : audited.replace(e, old, stamp)) {
                return true;
            }
        }
    }

    /**
     * Forgets the namespaces no longer registered: a namespace id can come back for another namespace,
     * which must audit its files anew.
     */
    void retainNamespaces(java.util.Set<Long> registered) {
        audited.keySet().removeIf(e -> e.scope().isPresent() && !registered.contains(e.scope().getAsLong()));
    }
}
