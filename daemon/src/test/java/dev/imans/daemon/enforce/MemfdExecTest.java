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
 * appraises tmpfs. They are judged by a filesystem mark where the kernel takes one on its internal tmpfs,
 * else by the exec guard (a BPF program), in a namespace that shares the host's pid namespace (the
 * seed's {@code unshare -m}); the mitigation for pid namespaces, {@code vm.memfd_noexec=2}, refuses
 * every way too.
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
    void memfdExecsAreJudgedByTheMarkWhereTheKernelTakesItElseByTheExecGuard() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Namespace ns = daemon.namespace("appraise fsmagic=0x01021994\n");
        MemfdFilesystem.Status status = daemon.enforcement().memfdFilesystem();
        int errno = directMarkErrno();
        assertThat(status.marked()).isEqualTo(errno == 0);
        if (errno != 0) {
            assertThat(status.refusal()).isEqualTo(new Errno(errno).name());
        }
        String warnings = java.nio.file.Files.readString(daemon.control.resolve(".imans/warnings"));
        if (!status.execsJudged()) {
            // Neither the mark nor the guard (a kernel that refuses both): the gap is a visible state.
            assertThat(warnings).contains("namespace " + ns.nsid + ": appraise fsmagic=0x1021994: programs executed"
                    + " from a memfd (memfd_create) are not seen");
            for (String way : WAYS) {
                assertThat(ns.sh(java(way)).out()).as(way).isEqualTo("ran\n");
            }
            return;
        }
        // This machine's kernel refuses the mark and takes the guard.
        assertThat(warnings).doesNotContain("memfd");
        for (String way : WAYS) {
            Run.Result r = ns.sh(java(way));
            assertThat(r.out()).as(way + ": " + r).doesNotContain("ran");
            // The mark refuses the exec (EACCES); the guard kills the process before the program runs.
            assertThat(r.exit()).as(way + ": " + r).isEqualTo(status.marked() ? 1 : 128 + 9);
        }
        if (!status.marked()) {
            List<String> records = awaitAudit(3, "mnt_ns=" + ns.nsid);
            // The kernel writes a name with a space in hex, as here: "/memfd:program (deleted)".
            String name = java.util.HexFormat.of().withUpperCase().formatHex(
                    "/memfd:program (deleted)".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            assertThat(records).hasSize(3).allSatisfy(line -> assertThat(line)
                    .contains("op=\"appraise_data\" cause=\"missing-hash\"")
                    .contains("name=" + name + " ")
                    .contains("dev=\"tmpfs\"")
                    .contains("res=0"));
        }
        // The host's processes, under no policy, run the same programs.
        Run.Result host = Run.run("sh", "-c", java("fexecve"));
        assertThat(host.out()).as(host.toString()).isEqualTo("ran\n");
    }

    /** The audit lines naming {@code name}, once there are {@code count} (the guard reports asynchronously). */
    private List<String> awaitAudit(int count, String name) throws Exception {
        List<String> found = List.of();
        for (int i = 0; i < 100 && found.size() < count; i++) {
            found = daemon.auditLines().stream().filter(l -> l.contains(name)).toList();
            if (found.size() < count) {
                Thread.sleep(50);
            }
        }
        return found;
    }

    @Test
    void theGuardFollowsThePoliciesModesAndNamespacesMadeInside() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.LOG);
        Namespace logged = daemon.namespace("appraise fsmagic=0x01021994\n");
        assumeGuard();
        // Log mode: the exec runs and is audited, as the kernel does in ima_appraise=log.
        Run.Result r = logged.sh(java("execveat"));
        assertThat(r.out()).as(r.toString()).isEqualTo("ran\n");
        assertThat(awaitAudit(1, "mnt_ns=" + logged.nsid)).hasSize(1);
        daemon.close();

        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        // dont_appraise of tmpfs first: the kernel appraises no memfd, nor does the guard.
        Namespace exempt = daemon.namespace("dont_appraise fsmagic=0x01021994\nappraise func=BPRM_CHECK\n");
        Namespace strict = daemon.namespace("appraise func=BPRM_CHECK\n");
        assertThat(exempt.sh(java("fexecve")).out()).isEqualTo("ran\n");
        // A namespace made inside the strict one stays under its policy, judged before the daemon learns it.
        Run.Result inner = strict.sh("unshare -m " + java("fexecve"));
        assertThat(inner.out()).as(inner.toString()).doesNotContain("ran");
        assertThat(inner.exit()).isEqualTo(128 + 9);
        // Entered from the host (setns) and unshared at once, the parent chain leads to the host: the
        // namespace is tied to the strict one by its mounts when the liveness scan learns it (every
        // 500 ms), and from then on has an entry of its own.
        Run.Result entered = Run.run("nsenter", "-t", Integer.toString(strict.pid()), "-m", "unshare", "-m", "sh",
                "-c", "sleep 2; " + java("fexecve"));
        assertThat(entered.out()).as(entered.toString()).doesNotContain("ran");
        assertThat(entered.exit()).isEqualTo(128 + 9);
        // A policy written later is in force when the write returns: a measuring namespace turns strict.
        Namespace measured = daemon.namespace("measure func=BPRM_CHECK\n");
        assertThat(measured.sh(java("fexecve")).out()).isEqualTo("ran\n");
        daemon.policy(measured, "appraise func=BPRM_CHECK\n");
        assertThat(measured.sh(java("fexecve")).exit()).isEqualTo(128 + 9);
        // The count follows the guard's report, which its reader thread takes after the kill.
        for (int i = 0; i < 200 && daemon.enforcement().memfdExecs().refused() < 3; i++) {
            Thread.sleep(10);
        }
        assertThat(daemon.enforcement().memfdExecs().refused()).isEqualTo(3);
    }

    private void assumeGuard() {
        org.junit.jupiter.api.Assumptions.assumeTrue(daemon.enforcement().memfdFilesystem().execsGuarded(),
                "the exec guard is attached where the filesystem mark is refused");
    }

    /**
     * MFD_HUGETLB memfds live on the kernel's internal hugetlbfs, which, unlike its internal tmpfs, takes
     * a filesystem mark: their opens and execs are judged by fanotify like any file. hugetlbfs cannot be
     * written with write(2), so the test fills one huge page through a mapping.
     */
    @Test
    void hugetlbMemfdsAreJudgedThroughAMarkOnTheirFilesystem() throws Exception {
        Path pages = Path.of("/proc/sys/vm/nr_hugepages");
        String before = java.nio.file.Files.readString(pages).strip();
        try {
            if (Long.parseLong(before) == 0) {
                java.nio.file.Files.writeString(pages, "1\n");
            }
            org.junit.jupiter.api.Assumptions.assumeTrue(Long.parseLong(
                    java.nio.file.Files.readString(pages).strip()) > 0, "no huge page could be reserved");
            daemon = new DaemonFixture(AppraiseSetting.ENFORCE, java.util.Set.of(),
                    dev.imans.audit.AuditFormat.SEED, java.util.Set.of("tmpfs", "hugetlbfs"));
            assertThat(daemon.enforcement().hugetlb().marked()).contains("2048 kB");
            assertThat(daemon.enforcement().hugetlb().unmarked()).isEmpty();
            String probe = "import os, mmap\n"
                    + "fd = os.memfd_create('huge', os.MFD_HUGETLB)\n"
                    + "os.ftruncate(fd, 2 * 1024 * 1024)\n"
                    + "m = mmap.mmap(fd, 2 * 1024 * 1024); m[:4] = b'\\x7fELF'; m.close()\n"
                    + "try:\n    open('/proc/self/fd/%d' % fd, 'rb'); print('open allowed')\n"
                    + "except OSError as e:\n    print('open errno', e.errno)\n"
                    + "try:\n    os.execve(fd, ['x'], {})\n"
                    + "except OSError as e:\n    print('exec errno', e.errno)\n";
            Path script = daemon.base.resolve("huge.py");
            java.nio.file.Files.writeString(script, probe);
            Namespace open = daemon.namespace("measure func=BPRM_CHECK\n");
            // Not appraised: the reopen is allowed and the loader refuses the page (ENOEXEC), as it would anyway.
            assertThat(open.sh("python3 " + script).out()).isEqualTo("open allowed\nexec errno 8\n");
            Namespace strict = daemon.namespace("appraise fsmagic=0x958458f6\n");
            assertThat(strict.sh("python3 " + script).out()).isEqualTo("open errno " + Errno.EPERM + "\nexec errno "
                    + Errno.EPERM + "\n");
            assertThat(daemon.auditLines()).anySatisfy(l -> assertThat(l).contains("cause=\"missing-hash\"")
                    .contains("mnt_ns=" + strict.nsid).contains("dev=\"hugetlbfs\""));
        } finally {
            java.nio.file.Files.writeString(pages, before + "\n");
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
