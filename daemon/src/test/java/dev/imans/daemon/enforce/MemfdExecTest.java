package dev.imans.daemon.enforce;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imans.linux.Errno;
import dev.imans.linux.Fanotify;
import dev.imans.linux.Fd;
import dev.imans.linux.LinuxException;
import dev.imans.linux.Memfd;
import dev.imans.ns.AppraiseSetting;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Programs executed from a memfd, the three ways a program can do it, inside a namespace whose policy
 * appraises tmpfs. They are judged exactly when the daemon could mark the kernel's internal tmpfs, which
 * it reports as the kernel answers; the documented mitigation, {@code vm.memfd_noexec=2} in the opener's
 * pid namespace, refuses every way.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class MemfdExecTest {
    private static final List<String> WAYS = List.of("fexecve", "execveat", "proc");

    private DaemonFixture daemon;

    @AfterEach
    void tearDown() throws Exception {
        if (daemon != null) {
            daemon.close();
        }
    }

    /** 0 when the kernel accepts a filesystem mark through a memfd, else the errno it refuses it with. */
    private static int directMarkErrno() throws Exception {
        try (Fd group = Fd.adopt(Fanotify.init(Fanotify.FAN_CLASS_CONTENT | Fanotify.FAN_CLOEXEC, Fd.O_RDONLY));
                Fd memfd = Memfd.create("probe", Memfd.MFD_CLOEXEC)) {
            Fanotify.mark(group.value(), Fanotify.FAN_MARK_ADD | Fanotify.FAN_MARK_FILESYSTEM,
                    Fanotify.FAN_OPEN_EXEC_PERM, memfd.value(), null);
            return 0;
        } catch (LinuxException e) {
            return e.errnoValue();
        }
    }

    private static String java(String way) throws Exception {
        String cp = Path.of(MemfdExec.class.getProtectionDomain().getCodeSource().getLocation().toURI()) + ":"
                + Path.of(Memfd.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        return Path.of(System.getProperty("java.home"), "bin", "java") + " -XX:-UsePerfData"
                + " --enable-native-access=ALL-UNNAMED -cp " + cp + " " + MemfdExec.class.getName() + " " + way
                + " /bin/echo";
    }

    @Test
    void memfdExecsAreJudgedExactlyWhenTheKernelLetsTheDaemonMarkTheirFilesystem() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Namespace ns = daemon.namespace("appraise fsmagic=0x01021994\n");
        MemfdFilesystem.Status status = daemon.enforcement().memfdFilesystem();
        int errno = directMarkErrno();
        assertThat(status.marked()).isEqualTo(errno == 0);
        if (errno != 0) {
            assertThat(status.refusal()).isEqualTo(new Errno(errno).name());
        }
        String warnings = java.nio.file.Files.readString(daemon.control.resolve(".imans/warnings"));
        if (status.marked()) {
            assertThat(warnings).doesNotContain("memfd");
        } else {
            // The gap is a visible state of the namespace's policy, not only a line at start.
            assertThat(warnings).contains("namespace " + ns.nsid + ": appraise fsmagic=0x1021994: programs executed"
                    + " from a memfd (memfd_create) are not seen");
        }
        for (String way : WAYS) {
            Run.Result r = ns.sh(java(way));
            if (status.marked()) {
                assertThat(r.exit()).as(way + ": " + r).isNotZero();
                assertThat(r.out()).as(way).doesNotContain("ran");
            } else {
                // The gap, reported above: the kernel refuses the mark, nothing judges the exec.
                assertThat(r.out()).as(way + ": " + r).isEqualTo("ran\n");
            }
        }
    }

    @Test
    void memfdNoexecInThePidNamespaceRefusesEveryWay() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Namespace ns = daemon.namespace("appraise fsmagic=0x01021994\n");
        for (String way : WAYS) {
            Run.Result r = ns.sh("unshare -p -f sh -c 'echo 2 > /proc/sys/vm/memfd_noexec && exec " + java(way) + "'");
            assertThat(r.exit()).as(way + ": " + r).isEqualTo(1);
            assertThat(r.out()).as(way).isEqualTo("exec failed: errno " + Errno.EACCES + "\n");
        }
    }
}
