package dev.imans.linux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StatTest {
    @TempDir
    Path tmp;

    @Test
    void fstatMatchesTheJdksView() throws Exception {
        Path f = Files.writeString(tmp.resolve("f"), "12345");
        Files.setLastModifiedTime(f, FileTime.from(Instant.ofEpochSecond(1_700_000_000L, 123_456_789)));
        try (Fd fd = Fd.open(f, Fd.O_RDONLY)) {
            FileStat st = Stat.fstat(fd.value());
            assertThat(st.ino()).isEqualTo(((Number) Files.getAttribute(f, "unix:ino")).longValue());
            assertThat(st.size()).isEqualTo(5);
            assertThat(st.isRegularFile()).isTrue();
            assertThat(st.permissions()).isEqualTo((Integer) Files.getAttribute(f, "unix:mode") & 07777);
            assertThat(st.uid()).isEqualTo(Files.getAttribute(f, "unix:uid"));
            assertThat(st.mtimeSec()).isEqualTo(1_700_000_000L);
            assertThat(st.mtimeNsec()).isEqualTo(123_456_789);
            assertThat(st.ctimeSec()).isPositive();
            assertThat(st.dev()).isEqualTo(Stat.stat(f).dev());
            assertThat(st.mountId()).isPositive();
        }
    }

    /**
     * A mount's unique id: the same for two files of one mount, another for a bind mount of the same
     * directory (another mount), and a new one for a mount made after an unmount (the mountinfo id may be
     * given again; this one never is).
     */
    @Test
    void uniqueMountIdsTellMountsApartAndAreNeverReused() throws Exception {
        Path a = tmp.resolve("a");
        Path b = tmp.resolve("b");
        long first;
        try (TmpfsMount m = new TmpfsMount(a); Stat.Buffer st = new Stat.Buffer()) {
            Files.writeString(m.dir.resolve("f"), "x");
            Files.writeString(m.dir.resolve("g"), "y");
            first = uniqueMountId(st, m.dir.resolve("f"));
            assertThat(first).as("Linux 6.8 or later reports it").isNotZero();
            assertThat(uniqueMountId(st, m.dir.resolve("g"))).isEqualTo(first);
            Files.createDirectories(b);
            TmpfsMount.run("mount", "--bind", a.toString(), b.toString());
            try {
                assertThat(uniqueMountId(st, b.resolve("f"))).isNotZero().isNotEqualTo(first);
            } finally {
                TmpfsMount.run("umount", b.toString());
            }
            try (Fd fd = Fd.open(m.dir.resolve("f"), Fd.O_RDONLY)) {
                assertThat(st.fstat(fd.value())).isZero();
                assertThat(st.uniqueMountId()).as("not asked for: not reported").isZero();
                assertThat(st.mountId()).isPositive().isNotEqualTo(first);
            }
        }
        try (TmpfsMount again = new TmpfsMount(a); Stat.Buffer st = new Stat.Buffer()) {
            Files.writeString(again.dir.resolve("f"), "x");
            assertThat(uniqueMountId(st, again.dir.resolve("f"))).isNotZero().isNotEqualTo(first);
        }
    }

    private static long uniqueMountId(Stat.Buffer st, Path f) throws Exception {
        try (Fd fd = Fd.open(f, Fd.O_RDONLY)) {
            assertThat(st.fstatUniqueMount(fd.value())).isZero();
            return st.uniqueMountId();
        }
    }

    @Test
    void lstatDoesNotFollowAndStatDoes() throws Exception {
        Path f = Files.writeString(tmp.resolve("f"), "x");
        Path link = Files.createSymbolicLink(tmp.resolve("l"), f);
        assertThat(Stat.lstat(link).fileType()).isEqualTo(Stat.S_IFLNK);
        assertThat(Stat.stat(link).ino()).isEqualTo(Stat.stat(f).ino());
        assertThat(Stat.stat(tmp).isDirectory()).isTrue();
    }

    @Test
    void tmpfsMagicAndErrors() throws Exception {
        try (TmpfsMount m = new TmpfsMount(tmp.resolve("m"))) {
            assertThat(Stat.statfs(m.dir).type()).isEqualTo(0x01021994L);
            try (Fd fd = Fd.open(m.dir, Fd.O_RDONLY | Fd.O_DIRECTORY)) {
                assertThat(Stat.fstatfs(fd.value()).type()).isEqualTo(Stat.TMPFS_MAGIC);
                assertThat(Stat.fstat(fd.value()).devMajor()).isZero();
            }
        }
        assertThat(Stat.statfs(Path.of("/proc")).type()).isEqualTo(Stat.PROC_SUPER_MAGIC);
        assertThatThrownBy(() -> Stat.fstat(-1))
                .satisfies(e -> assertThat(((LinuxException) e).errnoValue()).isEqualTo(Errno.EBADF));
        assertThatThrownBy(() -> Stat.stat(tmp.resolve("missing")))
                .hasMessageContaining("statx").hasMessageContaining("ENOENT");
        assertThatThrownBy(() -> Stat.fstatfs(-1))
                .satisfies(e -> assertThat(((LinuxException) e).errnoValue()).isEqualTo(Errno.EBADF));
    }
}
