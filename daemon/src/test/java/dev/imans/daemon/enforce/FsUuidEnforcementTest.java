package dev.imans.daemon.enforce;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imans.audit.AuditFormat;
import dev.imans.linux.Fd;
import dev.imans.linux.FsUuid;
import dev.imans.linux.Stat;
import dev.imans.ns.AppraiseSetting;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code fsuuid=} rules judged against the superblock UUID the kernel compares ({@code s_uuid}): on an
 * ext4 image made with a chosen UUID and on tmpfs (a random UUID per mount). Policy writes append, so each test first loads a rule naming another
 * UUID (the file stays readable), then one naming the file's own (the unlabelled file is refused).
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class FsUuidEnforcementTest {
    private static final String HELLO_SHA256 = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";
    private static final UUID IMAGE_UUID = UUID.fromString("0b5e7d1c-8f0a-4c3e-9d2b-6a1f5e4c3b2a");
    private static final UUID OTHER_UUID = UUID.fromString("6a2ec3e7-f8dc-4e9b-9d3c-e1d1f5b4f8a1");

    private DaemonFixture daemon;

    @AfterEach
    void tearDown() throws Exception {
        if (daemon != null) {
            daemon.close();
        }
    }

    private static void assertDenied(Run.Result r) {
        assertThat(r.exit()).as(r.toString()).isNotZero();
        assertThat(r.err()).contains("Operation not permitted");
    }

    private static void assertRead(Namespace ns, String path) throws Exception {
        assertThat(ns.shOk("cat " + path).out()).isEqualTo("hello\n");
    }

    /** A namespace with a loop-mounted image of {@code mkfs} at /tmp/mnt/img, holding an unlabelled and a labelled file. */
    private Namespace withImage(String mkfs, long size) throws Exception {
        Namespace ns = daemon.registered();
        ns.shOk("truncate -s " + size + " /tmp/img && " + mkfs + " /tmp/img >/dev/null && mkdir -p /tmp/mnt/img"
                + " && mount -o loop /tmp/img /tmp/mnt/img && echo hello > /tmp/mnt/img/plain && echo hello > /tmp/mnt/img/labelled"
                + " && setfattr -n security.ima -v 0x0404" + HELLO_SHA256 + " /tmp/mnt/img/labelled");
        daemon.enforcement().rescanMounts();
        return ns;
    }

    private void judgedByTheImageUuid(Namespace ns) throws Exception {
        daemon.policy(ns, "appraise fsuuid=" + OTHER_UUID + "\n");
        assertRead(ns, "/tmp/mnt/img/plain");
        daemon.policy(ns, "appraise fsuuid=" + IMAGE_UUID + "\n");
        assertDenied(ns.sh("cat /tmp/mnt/img/plain"));
        assertRead(ns, "/tmp/mnt/img/labelled");
        // The image's facts are kept by its mount's unique id: the opens after the first one make no
        // fstatfs, and what they are judged by is what the kernel says of the superblock.
        try (Fd fd = Fd.open(ns.hostPath("/tmp/mnt/img/labelled"), Fd.O_RDONLY); Stat.Buffer st = new Stat.Buffer()) {
            assertThat(st.fstatUniqueMount(fd.value())).isZero();
            FilesystemTable.Superblock kept = daemon.enforcement().filesystems().ofMount(st.uniqueMountId());
            assertThat(kept).isNotNull();
            assertThat(kept.magic()).isEqualTo(Stat.fstatfs(fd.value()).type());
            assertThat(kept.uuid()).isEqualTo(IMAGE_UUID);
        }
        // The namespace's tmpfs has another UUID: its unlabelled files stay readable.
        ns.shOk("echo hello > /tmp/plain");
        assertRead(ns, "/tmp/plain");
    }

    @Test
    void anExt4ImageIsJudgedByTheUuidItWasMadeWith() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE, Set.of(), AuditFormat.SEED, Set.of("tmpfs", "ext4"));
        judgedByTheImageUuid(withImage("mkfs.ext4 -q -F -U " + IMAGE_UUID, 16 << 20));
    }

    @Test
    void aBtrfsImageIsMarkedThoughItsFilesReportASubvolumeDeviceAndJudgedByItsUuidTypeAndName() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE, Set.of(), AuditFormat.SEED, Set.of("tmpfs", "btrfs"));
        Namespace ns = withImage("mkfs.btrfs -q -f -U " + IMAGE_UUID, 128 << 20);
        // btrfs: the files' st_dev is the subvolume's, not the one mountinfo shows for the mount.
        assertThat(ns.shOk("stat -c %d /tmp/mnt/img/plain").out().strip())
                .isNotEqualTo(ns.shOk("mountpoint -d /tmp/mnt/img | awk -F: '{print $1*256+$2}'").out().strip());
        // fsname= finds the filesystem's name through the subvolume's device number.
        ns.shOk("echo hello > /tmp/mnt/img/theirs && chown 4242 /tmp/mnt/img/theirs");
        daemon.policy(ns, "appraise fsname=btrfs fowner=4242\n");
        assertDenied(ns.sh("cat /tmp/mnt/img/theirs"));
        judgedByTheImageUuid(ns);
    }

    @Test
    void aTmpfsIsJudgedByItsRandomUuidAndOnlyItsOwn() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Namespace ns = daemon.registered();
        ns.shOk("echo hello > /tmp/plain && mkdir -p /tmp/mnt/other && mount -t tmpfs other /tmp/mnt/other"
                + " && echo hello > /tmp/mnt/other/plain");
        daemon.enforcement().rescanMounts();
        UUID tmp;
        UUID other;
        try (Fd a = Fd.open(ns.hostPath("/tmp/plain"), Fd.O_RDONLY);
             Fd b = Fd.open(ns.hostPath("/tmp/mnt/other/plain"), Fd.O_RDONLY)) {
            tmp = FsUuid.read(a.value(), Stat.TMPFS_MAGIC).orElseThrow();
            other = FsUuid.read(b.value(), Stat.TMPFS_MAGIC).orElseThrow();
        }
        // Each tmpfs gets a random s_uuid at mount (shmem_fill_super): neither is zero, nor are they equal.
        assertThat(tmp).isNotEqualTo(new UUID(0, 0)).isNotEqualTo(other);
        daemon.policy(ns, "appraise fsuuid=" + OTHER_UUID + "\n");
        assertRead(ns, "/tmp/plain");
        daemon.policy(ns, "appraise fsuuid=" + tmp + "\n");
        assertDenied(ns.sh("cat /tmp/plain"));
        assertRead(ns, "/tmp/mnt/other/plain");
        daemon.policy(ns, "appraise fsuuid=00000000-0000-0000-0000-000000000000\n");
        assertRead(ns, "/tmp/mnt/other/plain");
    }
}
