package dev.imans.linux;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The guard on real execs of memfds, in real mount namespaces. */
class InternalExecGuardTest {
    private static final String MEMFD_EXEC = "import os; fd=os.memfd_create('probe'); "
            + "os.write(fd, open('/bin/echo','rb').read()); os.execve(fd, ['echo','ran'], {})";

    private final List<Process> holders = new ArrayList<>();
    private InternalExecGuard guard;
    private long host;

    @BeforeEach
    void attach() throws IOException {
        host = Namespaces.ownMountNamespaceInode();
        try {
            guard = InternalExecGuard.attach(host, 0);
        } catch (LinuxException e) {
            // A kernel without BTF-typed tracepoints for BPF, or one that forbids bpf(2) (the daemon then
            // reports memfd execs as unjudged, which MemfdExecTest checks): nothing to test here.
            org.junit.jupiter.api.Assumptions.assumeTrue(false, "the kernel refuses the guard: " + e);
        }
    }

    @AfterEach
    void detach() {
        holders.forEach(Process::destroyForcibly);
        if (guard != null) {
            guard.close();
        }
    }

    /** A process holding a new mount namespace: {pid, nsfs inode}. */
    private long[] namespace() throws Exception {
        Process p = new ProcessBuilder("unshare", "-m", "--propagation", "private", "sleep", "60").start();
        holders.add(p);
        long pid = p.pid();
        for (int i = 0; i < 200; i++) {
            long ns = java.nio.file.Files.readSymbolicLink(java.nio.file.Path.of("/proc/" + pid + "/ns/mnt"))
                    .toString().replaceAll("\\D", "").isEmpty() ? 0 : Long.parseLong(
                    java.nio.file.Files.readSymbolicLink(java.nio.file.Path.of("/proc/" + pid + "/ns/mnt"))
                            .toString().replaceAll("\\D", ""));
            if (ns != host) {
                return new long[] {pid, ns};
            }
            Thread.sleep(10);
        }
        throw new AssertionError("unshare did not make a namespace");
    }

    private static String[] run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return new String[] {Integer.toString(p.exitValue()),
                new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip()};
    }

    private List<InternalExecGuard.Event> events() throws LinuxException {
        List<InternalExecGuard.Event> out = new ArrayList<>();
        guard.poll(200, out::add);
        return out;
    }

    @Test
    void aMemfdExecRunsWhereNoEntryAsksAnything() throws Exception {
        assertThat(run("python3", "-c", MEMFD_EXEC)).containsExactly("0", "ran");
        assertThat(events()).isEmpty();
    }

    @Test
    void aNamespaceWhoseEntryRefusesKillsTheExecAndReportsIt() throws Exception {
        long[] ns = namespace();
        guard.set(ns[1], InternalExecGuard.TMPFS_REFUSE | InternalExecGuard.TMPFS_AUDIT);
        String[] r = run("nsenter", "-t", Long.toString(ns[0]), "-m", "python3", "-c", MEMFD_EXEC);
        assertThat(r[0]).isEqualTo(Integer.toString(128 + 9));
        assertThat(r[1]).doesNotContain("ran");
        List<InternalExecGuard.Event> ev = events();
        assertThat(ev).hasSize(1);
        assertThat(ev.getFirst().refused()).isTrue();
        assertThat(ev.getFirst().openerNs()).isEqualTo(ns[1]);
        assertThat(ev.getFirst().judgedAs()).isEqualTo(ns[1]);
        assertThat(ev.getFirst().name()).isEqualTo("memfd:probe");
        // The tracepoint runs once the new program is named.
        assertThat(ev.getFirst().comm()).isEqualTo("memfd:probe");
        // The host, not in that namespace, still runs it.
        assertThat(run("python3", "-c", MEMFD_EXEC)).containsExactly("0", "ran");
    }

    @Test
    void anAuditOnlyEntryReportsAndLetsItRun() throws Exception {
        long[] ns = namespace();
        guard.set(ns[1], InternalExecGuard.TMPFS_AUDIT);
        assertThat(run("nsenter", "-t", Long.toString(ns[0]), "-m", "python3", "-c", MEMFD_EXEC))
                .containsExactly("0", "ran");
        List<InternalExecGuard.Event> ev = events();
        assertThat(ev).hasSize(1);
        assertThat(ev.getFirst().refused()).isFalse();
    }

    @Test
    void aNamespaceMadeInsideARefusingOneIsJudgedAsItsParentProcesssNamespace() throws Exception {
        long[] ns = namespace();
        guard.set(ns[1], InternalExecGuard.TMPFS_REFUSE);
        String[] r = run("nsenter", "-t", Long.toString(ns[0]), "-m", "sh", "-c",
                "unshare -m python3 -c \"" + MEMFD_EXEC + "\"; echo status=$?");
        assertThat(r[1]).contains("status=137").doesNotContain("ran\n");
        List<InternalExecGuard.Event> ev = events();
        assertThat(ev).hasSize(1);
        assertThat(ev.getFirst().judgedAs()).isEqualTo(ns[1]);
        assertThat(ev.getFirst().openerNs()).isNotIn(ns[1], host);
    }

    @Test
    void aChainDeeperThanTheWalkInUnknownNamespacesIsJudgedByTheExhaustedEntry(@org.junit.jupiter.api.io.TempDir
            java.nio.file.Path dir) throws Exception {
        guard.set(InternalExecGuard.EXHAUSTED, InternalExecGuard.TMPFS_REFUSE);
        java.nio.file.Path deep = dir.resolve("deep.sh");
        // Each level is a shell that waits for the next (no exec), all in the new namespace.
        java.nio.file.Files.writeString(deep, "if [ $1 -gt 0 ]; then sh " + deep + " $(($1-1)); exit $?; fi\n"
                + "python3 -c \"" + MEMFD_EXEC + "\"\n");
        String[] shallow = run("unshare", "-m", "sh", deep.toString(), "3");
        assertThat(shallow).as("the walk reaches the host's entry").containsExactly("0", "ran");
        String[] deeper = run("unshare", "-m", "sh", deep.toString(), Integer.toString(InternalExecGuard.WALK + 2));
        assertThat(deeper[0]).isEqualTo(Integer.toString(128 + 9));
        assertThat(events()).singleElement().satisfies(e -> assertThat(e.judgedAs()).isZero());
    }

    @Test
    void reportsTheRingHasNoRoomForAreCountedAndTheExecsStillJudged() throws Exception {
        guard.close();
        guard = InternalExecGuard.attach(host, 0, 4096);
        long[] ns = namespace();
        guard.set(ns[1], InternalExecGuard.TMPFS_REFUSE | InternalExecGuard.TMPFS_AUDIT);
        // 60 reports of 104 bytes each do not fit in one page, and nothing reads them meanwhile.
        String children = "import os\nkilled = 0\nfor i in range(60):\n    pid = os.fork()\n    if pid == 0:\n"
                + "        fd = os.memfd_create('m'); os.write(fd, open('/bin/true','rb').read())\n"
                + "        os.execve(fd, ['true'], {})\n"
                + "    killed += os.waitpid(pid, 0)[1] == 9\nprint(killed)\n";
        String[] r = run("nsenter", "-t", Long.toString(ns[0]), "-m", "python3", "-c", children);
        assertThat(r).containsExactly("0", "60");
        long lost = guard.lost();
        assertThat(lost).isPositive();
        assertThat(events().size() + lost).isEqualTo(60);
    }

    @Test
    void anExecFromAFileOnDiskIsNeverJudged() throws Exception {
        long[] ns = namespace();
        guard.set(ns[1], InternalExecGuard.TMPFS_REFUSE | InternalExecGuard.TMPFS_AUDIT);
        assertThat(run("nsenter", "-t", Long.toString(ns[0]), "-m", "/bin/echo", "ran")).containsExactly("0", "ran");
        assertThat(events()).isEmpty();
    }
}
