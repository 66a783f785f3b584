package dev.imans.audit;

import java.util.Objects;
import java.util.Optional;

/**
 * The acting task as {@code integrity_audit_message} (security/integrity/integrity_audit.c) logs
 * it: {@code pid=%d uid=%u auid=%u ses=%u}, the LSM context ({@code subj=}, when an LSM supplies
 * one) and {@code comm=} as an untrusted string. uid and auid are init-user-namespace values;
 * 4294967295 is "unset" for auid and ses.
 */
public record Subject(int pid, long uid, long auid, long ses, Optional<String> subj, UntrustedString comm) {
    /** The kernel's value for an unset login uid or session (-1 as {@code %u}). */
    public static final long UNSET = Checks.U32_MAX;

    public Subject {
        Checks.u32("uid", uid);
        Checks.u32("auid", auid);
        Checks.u32("ses", ses);
        Objects.requireNonNull(subj, "subj");
        subj.ifPresent(s -> Checks.bareText("subj", s));
        Objects.requireNonNull(comm, "comm");
    }

    /** A task without an LSM context. */
    public static Subject of(int pid, long uid, long auid, long ses, String comm) {
        return new Subject(pid, uid, auid, ses, Optional.empty(), UntrustedString.of(comm));
    }

    public Subject withSubj(String context) {
        return new Subject(pid, uid, auid, ses, Optional.of(context), comm);
    }
}
