package dev.imans.linux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProcTest {
    @TempDir
    Path tmp;

    @Test
    void factsOfARealChild() throws Exception {
        Process p = new ProcessBuilder("sleep", "30").start();
        try {
            int pid = (int) p.pid();
            NamespacesTest.awaitSleeping(pid);
            assertThat(Proc.comm(pid)).isEqualTo("sleep");
            assertThat(Proc.exe(pid)).isEqualTo(Path.of("/proc/" + pid + "/exe").toRealPath().toString());
            ProcStatus st = Proc.status(pid);
            assertThat(st.tgid()).isEqualTo(pid);
            assertThat(st.ppid()).isEqualTo(Unistd.getpid());
            assertThat(st.ruid()).isZero();
            assertThat(st.euid()).isZero();
            assertThat(st.hasCapability(21)).as("CAP_SYS_ADMIN").isTrue();
            assertThat(Proc.loginUid(pid)).isEqualTo(Long.parseLong(Files.readString(Path.of("/proc/" + pid + "/loginuid"))));
            assertThat(Proc.sessionId(pid)).isEqualTo(Long.parseLong(Files.readString(Path.of("/proc/" + pid + "/sessionid"))));
        } finally {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void fdPathAndErrors() throws Exception {
        Path f = Files.writeString(tmp.resolve("f"), "x");
        try (Fd fd = Fd.open(f, Fd.O_RDONLY)) {
            assertThat(Proc.fdPath(fd.value())).isEqualTo(f.toString());
        }
        assertThatThrownBy(() -> Proc.fdPath(99999))
                .hasMessageContaining("readlink").hasMessageContaining("ENOENT");
        assertThatThrownBy(() -> Proc.comm(Integer.MAX_VALUE))
                .satisfies(e -> assertThat(((LinuxException) e).errnoValue()).isEqualTo(Errno.ENOENT));
    }

    @Test
    void statusParserKnownAnswer() {
        ProcStatus s = ProcStatus.parse("Name:\tx\nTgid:\t42\nPPid:\t1\nUid:\t1000\t1001\t1002\t1003\n"
                + "Gid:\t5\t6\t7\t8\nCapEff:\t000001ffffffffff\n");
        assertThat(s).isEqualTo(new ProcStatus(42, 1, 1000, 1001, 1002, 1003, 5, 6, 7, 8, 0x1ffffffffffL));
        assertThatThrownBy(() -> ProcStatus.parse("Name:\tx\n")).isInstanceOf(IllegalArgumentException.class);
        // Keys are whole: NStgid is not Tgid, and a key's first line may be the text's first.
        assertThat(ProcStatus.parse("Tgid:\t9\nNStgid:\t9\t1\nUid:\t0 0 0 0\nGid:\t1\t1\t1\t1\nCapEff:\t0\n"))
                .isEqualTo(new ProcStatus(9, -1, 0, 0, 0, 0, 1, 1, 1, 1, 0));
        assertThatThrownBy(() -> ProcStatus.parse("Tgid:\t9\nUid:\t0 0 0\nGid:\t1 1 1 1\nCapEff:\t0\n"))
                .hasMessageContaining("expected 4 ids");
        assertThatThrownBy(() -> ProcStatus.parse("Tgid:\t9\nUid:\t0 0 0 0 0\nGid:\t1 1 1 1\nCapEff:\t0\n"))
                .hasMessageContaining("expected 4 ids");
    }

    @Test
    void statusOfRealProcessesParsesAsTheirIds() throws Exception {
        ProcStatus self = Proc.status((int) ProcessHandle.current().pid());
        assertThat(self.tgid()).isEqualTo((int) ProcessHandle.current().pid());
        assertThat(self.ppid()).isEqualTo((int) ProcessHandle.current().parent().orElseThrow().pid());
        assertThat(self.euid()).isEqualTo(Stat.stat(Path.of("/proc/self")).uid());
    }

    @Test
    void unistdRawCallsReturnNegativeErrno() throws Exception {
        assertThat(Unistd.getpid()).isEqualTo((int) ProcessHandle.current().pid());
        assertThat(Unistd.gettid()).isEqualTo(Integer.parseInt(
                Files.readSymbolicLink(Path.of("/proc/thread-self")).getFileName().toString()));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment err = Native.errnoSegment(arena);
            MemorySegment buf = arena.allocate(16);
            assertThat(Unistd.read(err, -1, buf, 16)).isEqualTo(-Errno.EBADF);
            assertThat(Unistd.close(err, -1)).isEqualTo(-Errno.EBADF);
            assertThat(Unistd.ioctl(err, 0, Namespaces.NS_GET_NSTYPE, 0L)).isLessThan(0);
            Path f = Files.writeString(tmp.resolve("p"), "abcdef");
            try (Fd fd = Fd.open(f, Fd.O_RDONLY)) {
                assertThat(Unistd.pread(err, fd.value(), buf, 3, 2)).isEqualTo(3);
                assertThat(buf.getString(0).substring(0, 3)).isEqualTo("cde");
            }
        }
    }

    @Test
    void eventFdWakesPoll() throws Exception {
        try (EventFd e = EventFd.create(); Poll poll = new Poll(1)) {
            poll.set(0, e.fd(), Poll.POLLIN);
            assertThat(poll.await(0)).isZero();
            e.signal();
            assertThat(poll.await(1000)).isEqualTo(1);
            assertThat(poll.revents(0) & Poll.POLLIN).isNotZero();
        }
    }
}
