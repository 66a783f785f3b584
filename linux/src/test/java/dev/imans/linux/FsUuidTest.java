package dev.imans.linux;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code s_uuid} through FS_IOC_GETFSUUID and BTRFS_IOC_FS_INFO, on real filesystems (needs root). */
class FsUuidTest {
    private static final UUID MADE = UUID.fromString("0b5e7d1c-8f0a-4c3e-9d2b-6a1f5e4c3b2a");

    @TempDir
    Path tmp;

    private static UUID uuidOf(Path file) throws Exception {
        try (Fd fd = Fd.open(file, Fd.O_RDONLY)) {
            return FsUuid.read(fd.value(), Stat.fstatfs(fd.value()).type()).orElseThrow();
        }
    }

    /** Makes an image with {@code mkfs}, loop-mounts it and returns the UUID read through a file on it. */
    private UUID imageUuid(String mkfs, long size) throws Exception {
        Path img = tmp.resolve("img");
        Path dir = Files.createDirectories(tmp.resolve("mnt"));
        try (var f = java.nio.channels.FileChannel.open(img, java.nio.file.StandardOpenOption.CREATE_NEW,
                java.nio.file.StandardOpenOption.WRITE)) {
            f.truncate(0).position(size - 1).write(java.nio.ByteBuffer.wrap(new byte[1]));
        }
        TmpfsMount.run("sh", "-c", mkfs + " " + img + " >/dev/null");
        TmpfsMount.run("mount", "-o", "loop", img.toString(), dir.toString());
        try {
            Path f = Files.writeString(dir.resolve("f"), "x");
            return uuidOf(f);
        } finally {
            TmpfsMount.run("umount", dir.toString());
        }
    }

    @Test
    void ext4ShowsTheUuidItWasMadeWith() throws Exception {
        assertThat(imageUuid("mkfs.ext4 -q -F -U " + MADE, 16 << 20)).isEqualTo(MADE);
    }

    @Test
    void btrfsShowsItsFsidThoughTheGenericIoctlDoesNot() throws Exception {
        assertThat(imageUuid("mkfs.btrfs -q -f -U " + MADE, 128 << 20)).isEqualTo(MADE);
    }

    @Test
    void everyTmpfsHasItsOwnNonZeroUuid() throws Exception {
        try (TmpfsMount a = new TmpfsMount(tmp.resolve("a")); TmpfsMount b = new TmpfsMount(tmp.resolve("b"))) {
            UUID ua = uuidOf(Files.writeString(a.dir.resolve("f"), "x"));
            assertThat(uuidOf(Files.writeString(a.dir.resolve("g"), "y"))).isEqualTo(ua);
            assertThat(ua).isNotEqualTo(new UUID(0, 0)).isNotEqualTo(uuidOf(Files.writeString(b.dir.resolve("f"), "x")));
        }
    }

    @Test
    void procSetsNoneAndReadsAsZero() throws Exception {
        assertThat(uuidOf(Path.of("/proc/self/status"))).isEqualTo(new UUID(0, 0));
    }

    @Test
    void theGenericIoctlCameWithLinux69() {
        assertThat(FsUuid.genericIoctl("6.18.44-fc-v782")).isTrue();
        assertThat(FsUuid.genericIoctl("6.9.0")).isTrue();
        assertThat(FsUuid.genericIoctl("7.0-rc1")).isTrue();
        assertThat(FsUuid.genericIoctl("6.8.12-amd64")).isFalse();
        assertThat(FsUuid.genericIoctl("5.15.0")).isFalse();
        assertThat(FsUuid.genericIoctl("")).isFalse();
    }
}
