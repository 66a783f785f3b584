package dev.imans.linux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MountsTest {
    @TempDir
    Path tmp;

    @Test
    void parsesTheDocumentedExample() {
        // Documentation/filesystems/proc.rst, 3.5
        MountInfo m = Mounts.parse("36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n")
                .getFirst();
        assertThat(m).isEqualTo(new MountInfo(36, 35, 98, 0, "/mnt1", "/mnt2", "rw,noatime", List.of("master:1"),
                "ext3", "/dev/root", "rw,errors=continue"));
        MountInfo none = Mounts.parse("1 0 0:5 / / rw - rootfs rootfs rw").getFirst();
        assertThat(none.optionalFields()).isEmpty();
    }

    @Test
    void decodesOctalEscapes() {
        assertThat(Mounts.unescape("/a\\040b\\011c\\134d\\012e")).isEqualTo("/a b\tc\\d\ne");
        assertThat(Mounts.unescape("/caf\\303\\251")).isEqualTo("/café");
    }

    @Test
    void rejectsMalformedLinesNamingTheLine() {
        assertThatThrownBy(() -> Mounts.parse("1 0 0:5 / / rw - rootfs rootfs rw\nrubbish here\n"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("line 2");
        assertThatThrownBy(() -> Mounts.parse("x 0 0:5 / / rw - rootfs rootfs rw"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("line 1");
    }

    @Test
    void realMountWithASpaceAndTheChangeWatch() throws Exception {
        Path dir = tmp.resolve("with space");
        try (Mounts.Watch watch = new Mounts.Watch(Unistd.getpid())) {
            assertThat(watch.awaitChange(0)).isFalse();
            try (TmpfsMount m = new TmpfsMount(dir)) {
                assertThat(watch.awaitChange(5000)).isTrue();
                assertThat(watch.awaitChange(0)).as("re-armed by the poll itself").isFalse();
                MountInfo mine = Mounts.readSelf().stream()
                        .filter(i -> i.mountPoint().equals(dir.toString())).findFirst().orElseThrow();
                assertThat(mine.fsType()).isEqualTo("tmpfs");
                assertThat(mine.source()).isEqualTo("imans-test");
                assertThat(mine.root()).isEqualTo("/");
                assertThat(mine.superOptions()).contains("size=16384k");
                assertThat(mine.dev()).isEqualTo(Stat.stat(dir).dev());
                assertThat(Mounts.read(Unistd.getpid())).contains(mine);
            }
            assertThat(watch.awaitChange(5000)).isTrue();
        }
    }
}
