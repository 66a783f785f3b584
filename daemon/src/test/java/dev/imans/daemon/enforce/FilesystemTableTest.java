package dev.imans.daemon.enforce;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imans.linux.Fd;
import dev.imans.linux.FsUuid;
import dev.imans.linux.MountInfo;
import dev.imans.linux.Mounts;
import dev.imans.linux.Stat;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** What the table says of a device number that an unmount freed and the next mount took. */
class FilesystemTableTest {
    private static MountInfo mount(String type, int minor) {
        return Mounts.parse("40 30 0:" + minor + " / /mnt/x rw,relatime - " + type + " " + type + " rw\n").getFirst();
    }

    @Test
    void aDeviceNumberTakenByAnotherTypeIsLearntAnew() {
        FilesystemTable t = new FilesystemTable();
        MountInfo tmpfs = mount("tmpfs", 4000);
        t.learn(tmpfs);
        assertThat(t.lookup(tmpfs.dev()).fsName()).isEqualTo("tmpfs");
        t.learn(mount("ramfs", 4000));
        assertThat(t.lookup(tmpfs.dev())).isEqualTo(new FilesystemTable.Names("ramfs", "ramfs"));
    }

    @Test
    void aUuidIsReadOncePerSuperblockAndAgainForANewOneOnTheSameDevice() throws Exception {
        FilesystemTable t = new FilesystemTable();
        Path dir = Files.createTempDirectory(Path.of("/dev/shm"), "imans-fstable-");
        try (Fd fd = Fd.open(Path.of("/proc/self/status"), Fd.O_RDONLY)) {
            Stat.FsStat proc = Stat.fstatfs(fd.value());
            long dev = Stat.fstat(fd.value()).dev();
            assertThat(t.fsUuid(dev, proc, fd.value())).isEqualTo(new UUID(0, 0));
            // The same device with another superblock identity (as after an unmount and a new tmpfs): read anew.
            Files.writeString(dir.resolve("f"), "x");
            try (Fd other = Fd.open(dir.resolve("f"), Fd.O_RDONLY)) {
                Stat.FsStat fs = Stat.fstatfs(other.value());
                UUID expected = FsUuid.read(other.value(), fs.type()).orElseThrow();
                assertThat(expected).as("a tmpfs UUID").isNotEqualTo(new UUID(0, 0));
                assertThat(t.fsUuid(dev, fs, other.value())).isEqualTo(expected);
                // Known now: a descriptor of another filesystem with the same identity is not asked again.
                assertThat(t.fsUuid(dev, fs, fd.value())).isEqualTo(expected);
            }
            t.retain(Set.of());
            assertThat(t.fsUuid(dev, proc, fd.value())).isEqualTo(new UUID(0, 0));
        } finally {
            Files.deleteIfExists(dir.resolve("f"));
            Files.delete(dir);
        }
    }

    @Test
    void aMountsFactsAreKeptByItsUniqueIdAndForgottenWhenADeviceNumberIsReused() {
        FilesystemTable t = new FilesystemTable();
        var sb = new FilesystemTable.Superblock(Stat.TMPFS_MAGIC, "tmpfs", new UUID(1, 2));
        t.learnMount(77, sb);
        assertThat(t.ofMount(77)).isEqualTo(sb);
        assertThat(t.ofMount(78)).isNull();
        t.learnMount(0, sb);
        assertThat(t.ofMount(0)).as("0: the kernel has no unique id").isNull();
        t.learnMount(79, new FilesystemTable.Superblock(Stat.TMPFS_MAGIC, "", null));
        assertThat(t.ofMount(79)).as("a name not known yet is looked up again").isNull();

        MountInfo tmpfs = mount("tmpfs", 4001);
        t.learn(tmpfs);
        t.learn(tmpfs);
        assertThat(t.ofMount(77)).as("the same filesystem learnt again changes nothing").isEqualTo(sb);
        t.learn(mount("ramfs", 4001));
        assertThat(t.ofMount(77)).as("names given under a reused device number are not trusted").isNull();

        t.learnMount(77, sb);
        t.alias(4002L, mount("tmpfs", 4001));
        t.alias(4002L, mount("tmpfs", 4001));
        assertThat(t.ofMount(77)).as("the same alias again changes nothing").isEqualTo(sb);
        t.alias(4002L, mount("btrfs", 4001));
        assertThat(t.ofMount(77)).as("an alias to another filesystem").isNull();
    }

    @Test
    void theMountsKeptAreBounded() {
        FilesystemTable t = new FilesystemTable();
        var sb = new FilesystemTable.Superblock(Stat.TMPFS_MAGIC, "tmpfs", null);
        for (long id = 1; id <= FilesystemTable.MOUNTS_MAX + 10; id++) {
            t.learnMount(id, sb);
        }
        assertThat(t.ofMount(FilesystemTable.MOUNTS_MAX + 10)).isEqualTo(sb);
        assertThat(t.ofMount(1)).isNull();
    }

    /**
     * A tmpfs unmounted while a descriptor keeps it is in no mount table, yet its files are opened still:
     * its name comes from its magic, so that fsname=tmpfs rules match it as the kernel's do. A magic that
     * several types share (ext2/3/4) names nothing.
     */
    @Test
    void aSuperblockNoMountTableShowsIsNamedByItsMagicWhereTheMagicIsOneTypes() throws Exception {
        Path dir = Files.createTempDirectory(Path.of("/run"), "imans-fstable-detached-");
        try {
            Run.ok("mount", "-t", "tmpfs", "detached", dir.toString());
            Files.writeString(dir.resolve("f"), "x");
            try (Fd fd = Fd.open(dir.resolve("f"), Fd.O_RDONLY)) {
                Run.ok("umount", "-l", dir.toString());
                long dev = Stat.fstat(fd.value()).dev();
                FilesystemTable t = new FilesystemTable();
                assertThat(Mounts.readSelf().stream().anyMatch(m -> m.dev() == dev)).as("detached").isFalse();
                assertThat(t.of(dev, Stat.fstatfs(fd.value()))).isEqualTo(new FilesystemTable.Names("tmpfs", "tmpfs"));
                assertThat(t.of(dev, new Stat.FsStat(0xef53L, 0, 0)).fsName()).as("ext2, ext3 or ext4").isEmpty();
            }
        } finally {
            Run.run("umount", dir.toString());
            Files.deleteIfExists(dir);
        }
    }
}
