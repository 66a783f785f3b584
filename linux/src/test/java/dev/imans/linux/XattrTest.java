package dev.imans.linux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Against the real libc: user.* works for everybody on ext4/tmpfs, so no root is needed here. */
class XattrTest {
    @TempDir
    Path dir;

    @Test
    void aFilesystemWithoutExtendedAttributesHasNoLabelAsForTheKernel() throws Exception {
        // procfs answers EOPNOTSUPP; ima_read_xattr reads that as "no security.ima".
        assertThat(Xattr.get(Path.of("/proc/self/status"), Xattr.SECURITY_IMA)).isEmpty();
        try (Fd fd = Fd.open(Path.of("/proc/self/status"), Fd.O_RDONLY)) {
            assertThat(Xattr.get(fd.value(), Xattr.SECURITY_IMA)).isEmpty();
        }
    }

    @Test
    void setGetRemoveByPathAndDescriptor() throws Exception {
        Path f = Files.writeString(dir.resolve("f"), "hello\n");
        assertThat(Xattr.get(f, "user.imans-test")).isEmpty();
        Xattr.set(f, "user.imans-test", new byte[] {4, 4, 1, 2});
        assertThat(Xattr.get(f, "user.imans-test")).hasValueSatisfying(v -> assertThat(v).containsExactly(4, 4, 1, 2));
        try (Fd file = Fd.open(f, Fd.O_RDWR)) {
            int fd = file.value();
            assertThat(Xattr.get(fd, "user.imans-test")).isPresent();
            Xattr.set(fd, "user.imans-test", new byte[0]);
            assertThat(Xattr.get(fd, "user.imans-test")).hasValueSatisfying(v -> assertThat(v).isEmpty());
            assertThat(Xattr.remove(fd, "user.imans-test")).isTrue();
            assertThat(Xattr.remove(fd, "user.imans-test")).isFalse();
        }
        Xattr.set(f, "user.x", new byte[] {1});
        assertThat(Xattr.remove(f, "user.x")).isTrue();
        assertThat(Xattr.remove(f, "user.x")).isFalse();
    }

    /** Labels of any size are read whole by descriptor, around the first read's buffer (root: security.*). */
    @Test
    void aLabelOfAnySizeIsReadWholeByDescriptor() throws Exception {
        Path f = Files.writeString(dir.resolve("labelled"), "hello\n");
        try (Fd file = Fd.open(f, Fd.O_RDONLY)) {
            assertThat(Xattr.get(file.value(), Xattr.SECURITY_IMA)).isEmpty();
            for (int size : new int[] {1, 1023, 1024, 1025, 3000}) {
                byte[] value = new byte[size];
                for (int i = 0; i < size; i++) {
                    value[i] = (byte) (i * 7 + size);
                }
                // One at a time: ext4 keeps a file's attributes in one 4 KiB block.
                for (String name : new String[] {Xattr.SECURITY_IMA, Xattr.SECURITY_EVM}) {
                    Xattr.set(f, name, value);
                    assertThat(Xattr.get(file.value(), name)).as("%s of %d bytes", name, size)
                            .hasValueSatisfying(v -> assertThat(v).isEqualTo(value));
                    assertThat(Xattr.remove(f, name)).isTrue();
                }
            }
        }
    }

    @Test
    void listGivesEveryNameOnce() throws Exception {
        Path f = Files.writeString(dir.resolve("l"), "x");
        try (Fd file = Fd.open(f, Fd.O_RDONLY)) {
            assertThat(Xattr.list(file.value())).noneMatch(n -> n.startsWith("user."));
            Xattr.set(f, "user.a", new byte[] {1});
            Xattr.set(f, "user.bb", new byte[0]);
            assertThat(Xattr.list(file.value())).filteredOn(n -> n.startsWith("user."))
                    .containsExactlyInAnyOrder("user.a", "user.bb");
        }
        assertThatThrownBy(() -> Xattr.list(-1)).isInstanceOf(LinuxException.class)
                .satisfies(e -> assertThat(((LinuxException) e).errnoValue()).isEqualTo(Errno.EBADF));
    }

    @Test
    void missingFileNamesCallErrnoAndPath() {
        Path missing = dir.resolve("nope");
        assertThatThrownBy(() -> Xattr.get(missing, "user.x"))
                .isInstanceOf(LinuxException.class)
                .hasMessageContaining("getxattr")
                .hasMessageContaining("ENOENT")
                .hasMessageContaining("No such file or directory")
                .hasMessageContaining(missing.toString())
                .satisfies(e -> assertThat(((LinuxException) e).errnoValue()).isEqualTo(Errno.ENOENT));
    }

    @Test
    void badDescriptorIsEbadf() {
        assertThatThrownBy(() -> Xattr.get(-1, "user.x"))
                .isInstanceOf(LinuxException.class)
                .satisfies(e -> assertThat(((LinuxException) e).errnoValue()).isEqualTo(Errno.EBADF));
    }
}
