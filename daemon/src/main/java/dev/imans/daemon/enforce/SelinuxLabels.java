package dev.imans.daemon.enforce;

import dev.imans.linux.Errno;
import dev.imans.linux.LinuxException;
import dev.imans.linux.Lsms;
import dev.imans.linux.Proc;
import dev.imans.linux.Xattr;
import dev.imans.policy.Rule;
import dev.imans.policy.SelinuxContext;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * The SELinux contexts that {@code obj_*=} and {@code subj_*=} conditions compare, read only where
 * SELinux is active and a policy in force has an LSM condition (elsewhere no LSM condition holds, as on
 * the kernel): the file's through its event descriptor ({@code security.selinux}, which SELinux answers
 * with the inode's context, also on filesystems labelled by mount or genfs rules), the opener's from
 * {@code /proc/PID/attr/current} (IMA compares the current task's subject). A context that cannot be
 * read fails the event like any other unreadable fact, never a silent non-match.
 */
final class SelinuxLabels {
    private static final boolean ACTIVE = Lsms.active().map(l -> l.contains("selinux")).orElse(false);

    /** Whether a policy snapshot has an LSM condition, kept for the last snapshot asked about. */
    private record Checked(Policies policies, boolean lsm) {}

    private static volatile Checked last = new Checked(null, false);

    private SelinuxLabels() {}

    /** Whether SELinux is active, so that an LSM condition of a rule can hold at all. */
    static boolean active() {
        return ACTIVE;
    }

    /** Whether contexts must be read for events judged under {@code p}. */
    static boolean wanted(Policies p) {
        if (!ACTIVE) {
            return false;
        }
        Checked c = last;
        if (c.policies() != p) {
            c = new Checked(p, hasLsmCondition(p));
            last = c;
        }
        return c.lsm();
    }

    private static boolean hasLsmCondition(Policies p) {
        for (Scope s : p.all()) {
            for (Rule r : s.policy().rules()) {
                if (!r.lsm().isEmpty()) {
                    return true;
                }
            }
        }
        return false;
    }

    /** The context of the file open at {@code fd}. */
    static SelinuxContext file(int fd) throws LinuxException {
        Optional<byte[]> v = Xattr.get(fd, "security.selinux");
        return parse(v.map(b -> new String(b, StandardCharsets.UTF_8)).orElse(""), "fd " + fd);
    }

    /** The context of the task {@code pid}. */
    static SelinuxContext task(int pid) throws LinuxException {
        String path = "/proc/" + pid + "/attr/current";
        return parse(Proc.readSmall(path), path);
    }

    private static SelinuxContext parse(String text, String what) throws LinuxException {
        return SelinuxContext.parse(text).orElseThrow(() -> new LinuxException("selinux context", Errno.ENODATA,
                what + ": \"" + text.strip() + "\""));
    }
}
