package dev.imans.daemon.enforce;

import dev.imans.daemon.fanotify.PermissionEvent;
import dev.imans.linux.LinuxException;
import dev.imans.linux.Proc;
import dev.imans.linux.ProcStatus;
import dev.imans.linux.Stat;
import dev.imans.ns.NamespaceId;
import java.nio.file.Path;

/**
 * Reads an {@link Opener} from {@code /proc}. Safe while holding permission events: the kernel refuses
 * permission marks on procfs, so these reads never wait for the daemon.
 */
final class OpenerProbe {
    private static final int CAP_SETGID = 6;
    private static final int CAP_SETUID = 7;

    private OpenerProbe() {}

    /**
     * Reads only what the policies in force can use: the namespace always; the credentials
     * ({@code /proc/PID/status}) when a rule tests uid/gid; the open mask ({@code /proc/PID/syscall})
     * when wanted. What is not read is zero, and unknown for the mask.
     *
     * @throws LinuxException when the opener's /proc entries cannot be read (it was killed meanwhile,
     *     or is not visible in the daemon's pid namespace)
     */
    static Opener probe(PermissionEvent event, boolean credentials, boolean openMask) throws LinuxException {
        int pid = event.pid();
        if (pid <= 0) {
            throw new LinuxException("fanotify", 3, "opener not visible in the daemon's pid namespace");
        }
        String base = "/proc/" + pid;
        // /proc/PID/ns/mnt names the namespace while the opener is blocked; the pidfd's
        // PIDFD_GET_MNT_NAMESPACE would give the same nsfs inode with one more descriptor per event.
        long ns = NamespaceId.fromLink(Proc.readlink(base + "/ns/mnt")).inode();
        if (!credentials) {
            OpenCall call = openMask ? call(pid, event.pidIsThread() ? 1 : threads(pid)) : OpenCall.NOT_CONSULTED;
            return new Opener(pid, ns, 0, 0, 0, 0, 0, 0, false, false, call, false, event.pidIsThread());
        }
        String statusText = Proc.readSmall(base + "/status");
        ProcStatus st = ProcStatus.parse(statusText);
        OpenCall call = openMask ? call(pid, event.pidIsThread() ? 1 : threads(statusText)) : OpenCall.NOT_CONSULTED;
        return new Opener(pid, ns, st.ruid(), st.euid(), st.suid(), st.rgid(), st.egid(), st.sgid(),
                st.hasCapability(CAP_SETUID), st.hasCapability(CAP_SETGID), call, true, event.pidIsThread());
    }

    /**
     * The opener's call, for a decision that finds it needs the call after {@link #probe} did not read
     * it. {@link OpenCall#UNKNOWN} when it cannot be read.
     */
    static OpenCall call(Opener opener) {
        if (opener.call().consulted()) {
            return opener.call();
        }
        try {
            return call(opener.pid(), opener.thread() ? 1 : threads(opener.pid()));
        } catch (LinuxException e) {
            return OpenCall.UNKNOWN;
        }
    }

    /**
     * The opener's thread count without {@code /proc/PID/status}, whose rendering and parse cost a
     * measuring open about 50 us: {@code /proc/PID/task}'s link count is 2 plus the threads
     * (proc_task_getattr, fs/proc/base.c).
     */
    static int threads(int pid) throws LinuxException {
        return Stat.stat(Path.of("/proc/" + pid + "/task")).nlink() - 2;
    }

    /**
     * /proc/PID/syscall shows that task's call: the opening thread's when events carry thread ids
     * ({@code threads} 1 then), else the thread group leader's, which is the open only in a
     * single-threaded opener.
     */
    private static OpenCall call(int pid, int threads) {
        if (threads != 1) {
            return OpenCall.UNKNOWN;
        }
        try {
            return OpenCall.parse(Proc.readSmall("/proc/" + pid + "/syscall"));
        } catch (LinuxException e) {
            return OpenCall.UNKNOWN;
        }
    }

    static int threads(String status) {
        int i = status.indexOf("\nThreads:");
        if (i < 0) {
            return -1;
        }
        int end = status.indexOf('\n', i + 1);
        try {
            return Integer.parseInt(status.substring(i + 9, end < 0 ? status.length() : end).strip());
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
