package dev.imans.linux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real fanotify groups on a private tmpfs, answered by hand (root). */
class FanotifyTest {
    @TempDir
    Path tmp;
    TmpfsMount fs;
    final List<AutoCloseable> toClose = new ArrayList<>();

    @BeforeEach
    void mount() throws Exception {
        fs = new TmpfsMount(tmp.resolve("fs"));
    }

    @AfterEach
    void cleanUp() throws Exception {
        for (AutoCloseable c : toClose.reversed()) {
            c.close();
        }
        fs.close();
    }

    @Test
    void probeSaysAvailableAsRoot() {
        assertThat(Fanotify.unavailabilityReason()).isEmpty();
        assertThat(Fanotify.isAvailable()).isTrue();
        assertThat(Fanotify.availability().unlimited()).isTrue();
    }

    @Test
    void errnoIsProvokedAndNamed() throws Exception {
        assertThatThrownBy(() -> Fanotify.init(0x7fff0000, Fd.O_RDONLY))
                .isInstanceOf(LinuxException.class).hasMessageContaining("fanotify_init")
                .satisfies(e -> assertThat(((LinuxException) e).errnoValue()).isEqualTo(Errno.EINVAL));
        assertThatThrownBy(() -> Fanotify.mark(-1, Fanotify.FAN_MARK_ADD, Fanotify.FAN_OPEN, Fanotify.AT_FDCWD, fs.dir))
                .satisfies(e -> assertThat(((LinuxException) e).errnoValue()).isEqualTo(Errno.EBADF));
        FanotifyGroup g = group(FanotifyGroup.openNotificationGroup());
        Path missing = fs.dir.resolve("missing");
        assertThatThrownBy(() -> g.add(Fanotify.FAN_MARK_INODE, Fanotify.FAN_CLOSE_WRITE, missing))
                .isInstanceOf(LinuxException.class)
                .hasMessageContaining("fanotify_mark").hasMessageContaining("ENOENT").hasMessageContaining(missing.toString())
                .satisfies(e -> assertThat(((LinuxException) e).errnoValue()).isEqualTo(Errno.ENOENT));
    }

    @Test
    void queuedBytesCountWhatIsWaitingAndReadsNeverBlock() throws Exception {
        FanotifyGroup g = group(FanotifyGroup.openNotificationGroup());
        g.add(Fanotify.FAN_MARK_FILESYSTEM, Fanotify.FAN_CLOSE_WRITE, fs.dir);
        assertThat(g.queuedBytes()).isZero();
        for (int i = 0; i < 3; i++) {
            Files.writeString(fs.dir.resolve("q" + i), "x");
        }
        // One 24-byte metadata record per close-after-write (a descriptor group has no info records).
        assertThat(g.queuedBytes()).isEqualTo(3 * 24);
        try (FanotifyEvents events = new FanotifyEvents(4096); FanotifyResponder closer = new FanotifyResponder()) {
            assertThat(events.read(g.fd())).isEqualTo(3 * 24);
            while (events.next()) {
                closer.closeFd(events.fd());
            }
            assertThat(g.queuedBytes()).isZero();
            assertThat(events.read(g.fd())).as("empty: EAGAIN, not a wait").isEqualTo(-Errno.EAGAIN);
        }
    }

    @Test
    void permissionRoundTripWithPidfdDenyAndAllow() throws Exception {
        Files.writeString(fs.dir.resolve("a"), "content-a\n");
        Files.writeString(fs.dir.resolve("b"), "content-b\n");
        FanotifyGroup g = group(FanotifyGroup.openPermissionGroup(true));
        assertThat(g.reportsPidfd()).isEqualTo(Fanotify.supportsPidfd());
        g.add(Fanotify.FAN_MARK_FILESYSTEM, Fanotify.FAN_OPEN_PERM | Fanotify.FAN_OPEN_EXEC_PERM, fs.dir);
        FanotifyEvents events = closeLater(new FanotifyEvents(4096));
        FanotifyResponder responder = closeLater(new FanotifyResponder());

        Process denied = new ProcessBuilder("cat", fs.dir.resolve("a").toString()).redirectErrorStream(true).start();
        assertThat(events.read(g.fd())).isPositive();
        assertThat(events.next()).isTrue();
        assertThat(events.mask()).isEqualTo(Fanotify.FAN_OPEN_PERM);
        assertThat(events.pid()).isEqualTo((int) denied.pid());
        assertThat(Proc.fdPath(events.fd())).isEqualTo(fs.dir.resolve("a").toString());
        if (g.reportsPidfd()) {
            assertThat(events.pidfd()).isGreaterThanOrEqualTo(0);
            assertThat(events.eventLength()).isEqualTo(32);
            assertThat(Namespaces.mountNamespaceInode((int) denied.pid()))
                    .isEqualTo(Namespaces.ownMountNamespaceInode());
        }
        assertThat(responder.respond(g.fd(), events.fd(), Fanotify.FAN_DENY)).isZero();
        responder.closeFd(events.fd());
        responder.closeFd(events.pidfd());
        assertThat(events.next()).isFalse();
        assertThat(denied.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(denied.exitValue()).isNotZero();
        assertThat(new String(denied.getInputStream().readAllBytes())).contains("Operation not permitted");

        Process allowed = new ProcessBuilder("cat", fs.dir.resolve("b").toString()).start();
        assertThat(events.read(g.fd())).isPositive();
        assertThat(events.next()).isTrue();
        int fd = events.fd();
        assertThat(responder.respond(g.fd(), fd, Fanotify.FAN_ALLOW)).isZero();
        assertThat(responder.respond(g.fd(), fd, Fanotify.FAN_ALLOW)).as("second answer").isEqualTo(Errno.ENOENT);
        responder.closeFd(fd);
        responder.closeFd(events.pidfd());
        assertThat(allowed.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(new String(allowed.getInputStream().readAllBytes())).isEqualTo("content-b\n");
    }

    @Test
    void auditResponseWithoutAuditGroupIsEinval() throws Exception {
        Files.writeString(fs.dir.resolve("a"), "x");
        FanotifyGroup g = group(FanotifyGroup.openPermissionGroup(false));
        g.add(Fanotify.FAN_MARK_FILESYSTEM, Fanotify.FAN_OPEN_PERM, fs.dir);
        FanotifyEvents events = closeLater(new FanotifyEvents(4096));
        FanotifyResponder responder = closeLater(new FanotifyResponder());
        Process p = new ProcessBuilder("cat", fs.dir.resolve("a").toString()).start();
        assertThat(events.read(g.fd())).isPositive();
        assertThat(events.next()).isTrue();
        assertThat(events.pidfd()).isEqualTo(Fanotify.FAN_NOPIDFD);
        assertThat(responder.respond(g.fd(), events.fd(), Fanotify.FAN_ALLOW | Fanotify.FAN_AUDIT))
                .isEqualTo(Errno.EINVAL);
        assertThat(responder.respond(g.fd(), events.fd(), Fanotify.FAN_ALLOW)).isZero();
        responder.closeFd(events.fd());
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isZero();
    }

    @Test
    void inodeIgnoreMarkSilencesTheFilesystemMarkUntilWritten() throws Exception {
        Path f = Files.writeString(fs.dir.resolve("f"), "x");
        FanotifyGroup g = group(FanotifyGroup.open(Fanotify.FAN_CLASS_NOTIF | Fanotify.FAN_CLOEXEC
                | Fanotify.FAN_NONBLOCK, FanotifyGroup.EVENT_F_FLAGS));
        g.add(Fanotify.FAN_MARK_FILESYSTEM, Fanotify.FAN_OPEN, fs.dir);
        g.add(Fanotify.FAN_MARK_INODE | Fanotify.FAN_MARK_IGNORE, Fanotify.FAN_OPEN, f);
        FanotifyEvents events = closeLater(new FanotifyEvents(4096));
        assertThat(opensSeen(g, events, f)).isZero();
        Files.writeString(f, "y");        // FS_MODIFY clears an ignore mask without SURV_MODIFY
        drain(g, events);
        assertThat(opensSeen(g, events, f)).isEqualTo(1);
        g.add(Fanotify.FAN_MARK_INODE | Fanotify.FAN_MARK_IGNORE, Fanotify.FAN_OPEN, f);
        assertThat(opensSeen(g, events, f)).isZero();
        g.flush(Fanotify.FAN_MARK_INODE);
        assertThat(opensSeen(g, events, f)).isEqualTo(1);
    }

    private static int opensSeen(FanotifyGroup g, FanotifyEvents events, Path f) throws Exception {
        Process p = new ProcessBuilder("cat", f.toString()).start();
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        int seen = 0;
        while (events.read(g.fd()) > 0) {
            while (events.next()) {
                if ((events.mask() & Fanotify.FAN_OPEN) != 0 && events.pid() == (int) p.pid()) {
                    seen++;
                }
                Fd.closeQuietly(events.fd());
            }
        }
        return seen;
    }

    private static void drain(FanotifyGroup g, FanotifyEvents events) {
        while (events.read(g.fd()) > 0) {
            while (events.next()) {
                Fd.closeQuietly(events.fd());
            }
        }
    }

    private FanotifyGroup group(FanotifyGroup g) {
        return closeLater(g);
    }

    private <T extends AutoCloseable> T closeLater(T c) {
        toClose.add(c);
        return c;
    }
}
