package dev.imans.audit;

import java.util.Optional;
import java.util.OptionalLong;

/**
 * A record made by {@code integrity_audit_message} (security/integrity/integrity_audit.c):
 *
 * <pre>
 * pid=%d uid=%u auid=%u ses=%u[ subj=%s] op=%s cause=%s comm=U[ name=U[ mnt_ns=%u]][ dev=U ino=%lu] res=%d[ errno=%d]
 * </pre>
 *
 * U is an untrusted string. {@code mnt_ns=} is the 2017 namespace patches' field, written after
 * {@code name=} only. {@code res} is 1 for success ({@code !result} in the kernel).
 */
public sealed interface IntegrityMessage extends AuditRecord permits IntegrityRecord, StatusRecord, PcrRecord {
    AuditType type();

    Subject subject();

    String op();

    String cause();

    Optional<UntrustedString> name();

    /** The opener's mount namespace inode number; only with a {@link #name()}. */
    OptionalLong mntNs();

    Optional<InodeRef> inode();

    /** {@code res=1}: the operation succeeded (or, for appraisal, the file passed). */
    boolean res();

    /** {@code errno=}: 0 from {@code integrity_audit_msg}; not written in the seed format. */
    int errno();
}
