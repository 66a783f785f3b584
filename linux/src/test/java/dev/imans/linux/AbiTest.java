package dev.imans.linux;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.StructLayout;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/**
 * Known answers for ABI numbers and layouts, copied from the kernel's uapi headers (Linux 6.18):
 * include/uapi/linux/fanotify.h, fcntl.h, stat.h, magic.h, sched.h, nsfs.h, pidfd.h,
 * include/uapi/asm-generic/poll.h and statfs.h.
 */
class AbiTest {
    record Constant(String name, long actual, long expected) {
        @Override
        public String toString() {
            return name;
        }
    }

    static List<Constant> constants() {
        return List.of(
                // fanotify.h
                new Constant("FAN_ACCESS", Fanotify.FAN_ACCESS, 0x00000001),
                new Constant("FAN_MODIFY", Fanotify.FAN_MODIFY, 0x00000002),
                new Constant("FAN_ATTRIB", Fanotify.FAN_ATTRIB, 0x00000004),
                new Constant("FAN_CLOSE_WRITE", Fanotify.FAN_CLOSE_WRITE, 0x00000008),
                new Constant("FAN_CLOSE_NOWRITE", Fanotify.FAN_CLOSE_NOWRITE, 0x00000010),
                new Constant("FAN_OPEN", Fanotify.FAN_OPEN, 0x00000020),
                new Constant("FAN_OPEN_EXEC", Fanotify.FAN_OPEN_EXEC, 0x00001000),
                new Constant("FAN_Q_OVERFLOW", Fanotify.FAN_Q_OVERFLOW, 0x00004000),
                new Constant("FAN_FS_ERROR", Fanotify.FAN_FS_ERROR, 0x00008000),
                new Constant("FAN_OPEN_PERM", Fanotify.FAN_OPEN_PERM, 0x00010000),
                new Constant("FAN_ACCESS_PERM", Fanotify.FAN_ACCESS_PERM, 0x00020000),
                new Constant("FAN_OPEN_EXEC_PERM", Fanotify.FAN_OPEN_EXEC_PERM, 0x00040000),
                new Constant("FAN_EVENT_ON_CHILD", Fanotify.FAN_EVENT_ON_CHILD, 0x08000000),
                new Constant("FAN_ONDIR", Fanotify.FAN_ONDIR, 0x40000000),
                new Constant("FAN_CLOEXEC", Fanotify.FAN_CLOEXEC, 0x00000001),
                new Constant("FAN_NONBLOCK", Fanotify.FAN_NONBLOCK, 0x00000002),
                new Constant("FAN_CLASS_NOTIF", Fanotify.FAN_CLASS_NOTIF, 0x00000000),
                new Constant("FAN_CLASS_CONTENT", Fanotify.FAN_CLASS_CONTENT, 0x00000004),
                new Constant("FAN_CLASS_PRE_CONTENT", Fanotify.FAN_CLASS_PRE_CONTENT, 0x00000008),
                new Constant("FAN_UNLIMITED_QUEUE", Fanotify.FAN_UNLIMITED_QUEUE, 0x00000010),
                new Constant("FAN_UNLIMITED_MARKS", Fanotify.FAN_UNLIMITED_MARKS, 0x00000020),
                new Constant("FAN_ENABLE_AUDIT", Fanotify.FAN_ENABLE_AUDIT, 0x00000040),
                new Constant("FAN_REPORT_PIDFD", Fanotify.FAN_REPORT_PIDFD, 0x00000080),
                new Constant("FAN_REPORT_TID", Fanotify.FAN_REPORT_TID, 0x00000100),
                new Constant("FAN_REPORT_FID", Fanotify.FAN_REPORT_FID, 0x00000200),
                new Constant("FAN_MARK_ADD", Fanotify.FAN_MARK_ADD, 0x00000001),
                new Constant("FAN_MARK_REMOVE", Fanotify.FAN_MARK_REMOVE, 0x00000002),
                new Constant("FAN_MARK_DONT_FOLLOW", Fanotify.FAN_MARK_DONT_FOLLOW, 0x00000004),
                new Constant("FAN_MARK_ONLYDIR", Fanotify.FAN_MARK_ONLYDIR, 0x00000008),
                new Constant("FAN_MARK_IGNORED_MASK", Fanotify.FAN_MARK_IGNORED_MASK, 0x00000020),
                new Constant("FAN_MARK_IGNORED_SURV_MODIFY", Fanotify.FAN_MARK_IGNORED_SURV_MODIFY, 0x00000040),
                new Constant("FAN_MARK_FLUSH", Fanotify.FAN_MARK_FLUSH, 0x00000080),
                new Constant("FAN_MARK_EVICTABLE", Fanotify.FAN_MARK_EVICTABLE, 0x00000200),
                new Constant("FAN_MARK_IGNORE", Fanotify.FAN_MARK_IGNORE, 0x00000400),
                new Constant("FAN_MARK_INODE", Fanotify.FAN_MARK_INODE, 0x00000000),
                new Constant("FAN_MARK_MOUNT", Fanotify.FAN_MARK_MOUNT, 0x00000010),
                new Constant("FAN_MARK_FILESYSTEM", Fanotify.FAN_MARK_FILESYSTEM, 0x00000100),
                new Constant("FAN_MARK_IGNORE_SURV", Fanotify.FAN_MARK_IGNORE_SURV, 0x00000440),
                new Constant("FAN_ALLOW", Fanotify.FAN_ALLOW, 0x01),
                new Constant("FAN_DENY", Fanotify.FAN_DENY, 0x02),
                new Constant("FAN_AUDIT", Fanotify.FAN_AUDIT, 0x10),
                new Constant("FANOTIFY_METADATA_VERSION", Fanotify.FANOTIFY_METADATA_VERSION, 3),
                new Constant("FAN_NOFD", Fanotify.FAN_NOFD, -1),
                new Constant("FAN_EPIDFD", Fanotify.FAN_EPIDFD, -2),
                new Constant("FAN_EVENT_INFO_TYPE_PIDFD", Fanotify.FAN_EVENT_INFO_TYPE_PIDFD, 4),
                // fcntl.h
                new Constant("AT_FDCWD", Fanotify.AT_FDCWD, -100),
                new Constant("AT_SYMLINK_NOFOLLOW", Stat.AT_SYMLINK_NOFOLLOW, 0x100),
                new Constant("AT_EMPTY_PATH", Stat.AT_EMPTY_PATH, 0x1000),
                new Constant("O_LARGEFILE", Fd.O_LARGEFILE, 0100000),
                new Constant("O_NOATIME", Fd.O_NOATIME, 01000000),
                new Constant("O_CLOEXEC", Fd.O_CLOEXEC, 02000000),
                // stat.h
                new Constant("STATX_BASIC_STATS", Stat.STATX_BASIC_STATS, 0x7ff),
                new Constant("STATX_MNT_ID", Stat.STATX_MNT_ID, 0x1000),
                new Constant("S_IFREG", Stat.S_IFREG, 0100000),
                new Constant("S_IFIFO", Stat.S_IFIFO, 0010000),
                new Constant("S_IFCHR", Stat.S_IFCHR, 0020000),
                // magic.h
                new Constant("TMPFS_MAGIC", Stat.TMPFS_MAGIC, 0x01021994),
                new Constant("EXT4_SUPER_MAGIC", Stat.EXT4_SUPER_MAGIC, 0xEF53),
                new Constant("OVERLAYFS_SUPER_MAGIC", Stat.OVERLAYFS_SUPER_MAGIC, 0x794c7630),
                new Constant("PROC_SUPER_MAGIC", Stat.PROC_SUPER_MAGIC, 0x9fa0),
                new Constant("NSFS_MAGIC", Stat.NSFS_MAGIC, 0x6e736673),
                // sched.h
                new Constant("CLONE_FS", Namespaces.CLONE_FS, 0x00000200),
                new Constant("CLONE_NEWNS", Namespaces.CLONE_NEWNS, 0x00020000),
                new Constant("CLONE_NEWPID", Namespaces.CLONE_NEWPID, 0x20000000),
                new Constant("CLONE_NEWUSER", Namespaces.CLONE_NEWUSER, 0x10000000),
                // nsfs.h, pidfd.h: _IOR(0xb7, 5, __u64) = 2<<30 | 8<<16 | 0xb7<<8 | 5; _IO(0xFF, 3)
                new Constant("NS_GET_MNTNS_ID", Namespaces.NS_GET_MNTNS_ID, (2L << 30) | (8 << 16) | (0xb7 << 8) | 5),
                new Constant("NS_GET_NSTYPE", Namespaces.NS_GET_NSTYPE, (0xb7 << 8) | 3),
                new Constant("PIDFD_GET_MNT_NAMESPACE", Namespaces.PIDFD_GET_MNT_NAMESPACE, (0xFF << 8) | 3),
                // poll.h
                new Constant("POLLIN", Poll.POLLIN, 1),
                new Constant("POLLPRI", Poll.POLLPRI, 2),
                new Constant("POLLERR", Poll.POLLERR, 8));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("constants")
    void constantMatchesTheKernelHeader(Constant c) {
        assertThat(c.actual()).as(c.name()).isEqualTo(c.expected());
    }

    @Test
    void fanotifyEventMetadataLayout() {
        StructLayout m = FanotifyEvents.METADATA;
        assertThat(off(m, "event_len")).isZero();
        assertThat(off(m, "vers")).isEqualTo(4);
        assertThat(off(m, "reserved")).isEqualTo(5);
        assertThat(off(m, "metadata_len")).isEqualTo(6);
        assertThat(off(m, "mask")).isEqualTo(8);
        assertThat(off(m, "fd")).isEqualTo(16);
        assertThat(off(m, "pid")).isEqualTo(20);
        assertThat(m.byteSize()).isEqualTo(24);
        assertThat(off(FanotifyEvents.INFO_PIDFD, "len")).isEqualTo(2);
        assertThat(off(FanotifyEvents.INFO_PIDFD, "pidfd")).isEqualTo(4);
        assertThat(FanotifyEvents.INFO_PIDFD.byteSize()).isEqualTo(8);
    }

    @Test
    void fanotifyResponseIsEightBytes() {
        assertThat(off(FanotifyResponder.RESPONSE, "fd")).isZero();
        assertThat(off(FanotifyResponder.RESPONSE, "response")).isEqualTo(4);
        assertThat(FanotifyResponder.RESPONSE.byteSize()).isEqualTo(8);
    }

    @Test
    void statfsAndPollfdLayouts() {
        assertThat(off(Stat.STATFS, "f_type")).isZero();
        assertThat(off(Stat.STATFS, "f_fsid")).isEqualTo(56);
        assertThat(Stat.STATFS.byteSize()).isEqualTo(120);
        assertThat(Poll.POLLFD.byteSize()).isEqualTo(8);
        assertThat(off(Poll.POLLFD, "revents")).isEqualTo(6);
    }

    @Test
    void statxOffsets() {
        assertThat(Stat.OFF_MODE).isEqualTo(28);
        assertThat(Stat.OFF_INO).isEqualTo(32);
        assertThat(Stat.OFF_SIZE).isEqualTo(40);
        assertThat(Stat.OFF_CTIME).isEqualTo(96);
        assertThat(Stat.OFF_MTIME).isEqualTo(112);
        assertThat(Stat.OFF_DEV_MAJOR).isEqualTo(136);
        assertThat(Stat.OFF_MNT_ID).isEqualTo(144);
        assertThat(Stat.STATX_SIZE).isEqualTo(256);
    }

    @Test
    void maskNamesUseTheHeaderNames() {
        assertThat(Fanotify.maskName(Fanotify.FAN_OPEN_PERM | Fanotify.FAN_OPEN_EXEC_PERM))
                .isEqualTo("FAN_OPEN_PERM|FAN_OPEN_EXEC_PERM");
        assertThat(Fanotify.maskName(0x80000000L)).isEqualTo("0x80000000");
    }

    private static long off(StructLayout l, String name) {
        return l.byteOffset(PathElement.groupElement(name));
    }
}
