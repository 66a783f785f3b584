package dev.imans.audit;

import java.util.Objects;
import java.util.Optional;

/**
 * The task fields {@code audit_log_task_info} (kernel/audit.c) appends to the {@code audit}
 * action record: {@code ppid= pid= auid= uid= gid= euid= suid= fsuid= egid= sgid= fsgid= tty= ses=}
 * then {@code comm=} and {@code exe=} as untrusted strings ({@code exe=(null)} for a task without
 * an mm) and the LSM context ({@code subj=}). Ids are init-user-namespace values; {@code tty} is
 * the tty name or {@code (none)}.
 */
public record TaskInfo(int ppid, int pid, long auid, long uid, long gid, long euid, long suid, long fsuid,
                       long egid, long sgid, long fsgid, String tty, long ses, UntrustedString comm,
                       Optional<UntrustedString> exe, Optional<String> subj) {
    /** The kernel's {@code tty=} for a task without a controlling terminal. */
    public static final String NO_TTY = "(none)";

    public TaskInfo {
        Checks.u32("auid", auid);
        Checks.u32("uid", uid);
        Checks.u32("gid", gid);
        Checks.u32("euid", euid);
        Checks.u32("suid", suid);
        Checks.u32("fsuid", fsuid);
        Checks.u32("egid", egid);
        Checks.u32("sgid", sgid);
        Checks.u32("fsgid", fsgid);
        Checks.u32("ses", ses);
        Checks.bareText("tty", tty);
        if (tty.contains(" ")) {
            throw new IllegalArgumentException("tty must not contain spaces: '" + tty + "'");
        }
        Objects.requireNonNull(comm, "comm");
        Objects.requireNonNull(exe, "exe");
        Objects.requireNonNull(subj, "subj");
        subj.ifPresent(s -> Checks.bareText("subj", s));
    }

    /** The {@link Subject} part, for an integrity record from the same task. */
    public Subject subject() {
        return new Subject(pid, uid, auid, ses, subj, comm);
    }
}
