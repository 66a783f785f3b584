package dev.imans.daemon.enforce;

import dev.imans.audit.InodeRef;
import dev.imans.audit.Subject;
import dev.imans.audit.TaskInfo;
import dev.imans.audit.UntrustedString;
import dev.imans.linux.LinuxException;
import dev.imans.linux.Proc;
import dev.imans.linux.ProcStatus;
import dev.imans.linux.Stat;
import java.util.Optional;

/**
 * The opener and file fields of an appraisal record, read while the opener is still blocked (its pid,
 * comm and root are then certainly its own).
 */
final class AuditFacts {
    private AuditFacts() {}

    /** pid, real uid, auid ({@code loginuid}), ses ({@code sessionid}) and comm, as integrity_audit_msg logs them. */
    static Subject subject(Opener o) {
        long auid = Subject.UNSET;
        long ses = Subject.UNSET;
        String comm = "?";
        long uid = Integer.toUnsignedLong(o.uid());
        try {
            if (!o.credentialsRead()) {
                uid = Integer.toUnsignedLong(Proc.status(o.pid()).ruid());
            }
            auid = Proc.loginUid(o.pid());
            ses = Proc.sessionId(o.pid());
            comm = Proc.comm(o.pid());
        } catch (LinuxException | NumberFormatException e) {
            // Kernels without CONFIG_AUDIT have no loginuid/sessionid: the kernel's unset values stand.
        }
        return Subject.of(o.pid(), uid, auid & 0xffffffffL, ses & 0xffffffffL, comm);
    }

    /**
     * The task fields of an {@code audit} rule record (audit_log_task_info in kernel/audit.c): parent,
     * ids (real, effective, saved, filesystem), tty, session, comm and executable. Fields that cannot be
     * read keep the kernel's unset values; no LSM context ({@code subj=}) is written, as on a kernel
     * without one.
     */
    static TaskInfo task(Opener o) {
        Subject s = subject(o);
        ProcStatus st;
        try {
            st = Proc.status(o.pid());
        } catch (LinuxException | RuntimeException e) {
            st = null;
        }
        Optional<UntrustedString> exe;
        try {
            exe = Optional.of(UntrustedString.of(Proc.exe(o.pid())));
        } catch (LinuxException e) {
            exe = Optional.empty(); // a task without an mm: exe=(null)
        }
        long uid = s.uid();
        return new TaskInfo(st == null ? 0 : st.ppid(), o.pid(), s.auid(), uid,
                st == null ? Integer.toUnsignedLong(o.gid()) : Integer.toUnsignedLong(st.rgid()),
                st == null ? uid : Integer.toUnsignedLong(st.euid()), st == null ? uid : Integer.toUnsignedLong(st.suid()),
                st == null ? uid : Integer.toUnsignedLong(st.fsuid()),
                st == null ? 0 : Integer.toUnsignedLong(st.egid()), st == null ? 0 : Integer.toUnsignedLong(st.sgid()),
                st == null ? 0 : Integer.toUnsignedLong(st.fsgid()), tty(o.pid()), s.ses(), s.comm(), exe,
                Optional.empty());
    }

    /**
     * The controlling terminal's name as the kernel prints it ({@code tty->name}): {@code /proc/PID/stat}'s
     * tty_nr mapped for the usual devices (pts, tty, ttyS); {@code (none)} without one or for others.
     */
    static String tty(int pid) {
        try {
            String stat = Proc.readSmall("/proc/" + pid + "/stat");
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            int nr = Integer.parseInt(f[4]);
            int major = (nr >> 8) & 0xfff;
            int minor = (nr & 0xff) | ((nr >> 12) & 0xfff00);
            if (major >= 136 && major <= 143) {
                return "pts" + ((major - 136) * 256 + minor);
            }
            if (major == 4) {
                return minor < 64 ? "tty" + minor : "ttyS" + (minor - 64);
            }
            return TaskInfo.NO_TTY;
        } catch (LinuxException | RuntimeException e) {
            return TaskInfo.NO_TTY;
        }
    }

    /**
     * The path as the opener sees it. {@code readlink(/proc/self/fd/N)} of the event descriptor is
     * {@code d_path()} against the daemon's root: for a mount of another mount namespace the walk stops
     * at that namespace's root, so the text is already the path in the opener's namespace (fanotify.md
     * 2.3). What is left is the opener's own root: {@code readlink(/proc/PID/root)} is computed the same
     * way, so an opener chrooted or pivoted below its namespace root has that prefix, which is cut off
     * here (the kernel's {@code d_path} in IMA's audit uses the opener's root too).
     */
    static UntrustedString name(int eventFd, int pid) {
        String path;
        try {
            path = Proc.fdPath(eventFd);
        } catch (LinuxException e) {
            return UntrustedString.of("?");
        }
        try {
            String root = Proc.readlink("/proc/" + pid + "/root");
            if (!root.equals("/") && root.startsWith("/")) {
                if (path.equals(root)) {
                    path = "/";
                } else if (path.startsWith(root + "/")) {
                    path = path.substring(root.length());
                }
            }
        } catch (LinuxException e) {
            // The opener's root is unreadable: keep the namespace-relative path.
        }
        return UntrustedString.of(path);
    }

    /**
     * The {@code dev=} and {@code ino=} of a record: the opened inode's {@code i_sb->s_id} and
     * {@code i_ino} (for an overlay's file the layer's {@code i_ino}, ovl_map_ino), named through the
     * descriptor's statfs ({@link FilesystemTable#of}).
     */
    static InodeRef inode(FilesystemTable table, int fd, long dev, long ino) {
        try {
            return InodeRef.of(table.of(dev, Stat.fstatfs(fd)).sId(), ino);
        } catch (LinuxException e) {
            // The descriptor cannot be asked: the device's filesystem names it.
            return InodeRef.of(table.lookup(dev).sId(), ino);
        }
    }
}
