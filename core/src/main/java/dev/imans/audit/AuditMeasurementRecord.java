package dev.imans.audit;

import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The record of the {@code audit} policy action (ima_api.c {@code ima_audit_measurement}, type
 * 1805, once per file until it changes):
 *
 * <pre>
 * file=U hash="&lt;algo&gt;:&lt;hex&gt;"[ mnt_ns=%u dev=U ino=%lu] ppid=%d pid=%d auid=%u uid=%u gid=%u
 *   euid=%u suid=%u fsuid=%u egid=%u sgid=%u fsgid=%u tty=%s ses=%u comm=U exe=U[ subj=%s]
 * </pre>
 *
 * The bracketed {@code mnt_ns= dev= ino=} are the 2017 namespace patches' fields.
 */
public record AuditMeasurementRecord(UntrustedString file, FileHash hash, OptionalLong mntNs,
                                     Optional<InodeRef> inode, TaskInfo task) implements AuditRecord {
    public AuditMeasurementRecord {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(hash, "hash");
        Objects.requireNonNull(mntNs, "mntNs");
        Objects.requireNonNull(inode, "inode");
        Objects.requireNonNull(task, "task");
        mntNs.ifPresent(ns -> Checks.u32("mnt_ns", ns));
        if (mntNs.isPresent() != inode.isPresent()) {
            throw new IllegalArgumentException("mnt_ns, dev and ino are written together: give both or neither");
        }
    }
}
