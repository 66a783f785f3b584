package dev.imans.daemon.enforce;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imans.ns.AppraiseSetting;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Filesystems mounted inside a registered namespace after its registration. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class MountTrackingTest {
    private DaemonFixture daemon;

    @AfterEach
    void tearDown() throws Exception {
        if (daemon != null) {
            daemon.close();
        }
    }

    private static void assertDeniedWithin(Namespace ns, String script, long millis) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        Run.Result r;
        do {
            r = ns.sh(script);
            if (r.exit() != 0 && r.err().contains("Operation not permitted")) {
                return;
            }
            Thread.sleep(10);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("still allowed after " + millis + " ms: " + r);
    }

    private static String remount(String old, String fresh) throws Exception {
        String cp = Path.of(Remount.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        return Path.of(System.getProperty("java.home"), "bin", "java") + " -XX:-UsePerfData"
                + " --enable-native-access=ALL-UNNAMED -cp " + cp + " " + Remount.class.getName() + " " + old + " " + fresh;
    }

    @Test
    void aNewFilesystemIsMarkedThoughTheKernelGaveItTheNumberOfOneJustUnmounted() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Namespace ns = daemon.namespace("appraise fsmagic=0x01021994\n");
        int reused = 0;
        for (int attempt = 0; attempt < 8 && reused < 2; attempt++) {
            ns.shOk("mkdir -p /tmp/a /tmp/b && mount -t tmpfs first /tmp/a && echo hello > /tmp/a/f");
            String first = ns.shOk("stat -c %d /tmp/a").out();
            assertDeniedWithin(ns, "cat /tmp/a/f", 5000);
            // Unmount and mount again at once, before the daemon looks: the new superblock usually gets the
            // freed anonymous device number, which the daemon has seen marked.
            ns.shOk(remount("/tmp/a", "/tmp/b"));
            String second = ns.shOk("echo hello > /tmp/b/f && stat -c %d /tmp/b").out();
            if (second.equals(first)) {
                reused++;
                // More than the periodic re-scan (5 s): a stale mark record is never corrected by time alone.
                assertDeniedWithin(ns, "cat /tmp/b/f", 7000);
            }
            ns.shOk("umount /tmp/b");
        }
        assertThat(reused).as("the kernel reused a device number (else this test shows nothing)").isPositive();
    }

    @Test
    void aFilesystemMountedInsideTheNamespaceIsCheckedWithinASecond() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Namespace ns = daemon.namespace("appraise fsmagic=0x01021994\n");
        ns.shOk("mkdir -p /tmp/late && mount -t tmpfs late /tmp/late && echo hello > /tmp/late/f");
        assertDeniedWithin(ns, "cat /tmp/late/f", 1000);
    }

    @Test
    void anUnreachableOverlayLayerIsLoggedOnceNotAtEveryScan() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Namespace ns = daemon.namespace("appraise fsmagic=0x01021994\n");
        java.io.ByteArrayOutputStream log = new java.io.ByteArrayOutputStream();
        java.io.PrintStream before = dev.imans.daemon.Log.redirect(
                new java.io.PrintStream(log, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            // An overlay whose layers' tmpfs is then detached: the overlay lives, its layer paths lead nowhere.
            ns.shOk("mkdir -p /tmp/l /tmp/m && mount -t tmpfs layers /tmp/l && mkdir /tmp/l/lower /tmp/l/upper"
                    + " /tmp/l/work && mount -t overlay overlay -o lowerdir=/tmp/l/lower,upperdir=/tmp/l/upper,"
                    + "workdir=/tmp/l/work /tmp/m && umount -l /tmp/l");
            for (int i = 0; i < 5; i++) {
                daemon.enforcement().rescanMounts();
            }
        } finally {
            dev.imans.daemon.Log.redirect(before);
        }
        String text = log.toString(java.nio.charset.StandardCharsets.UTF_8);
        assertThat(text.lines().filter(l -> l.contains("cannot reach overlay layer /proc/" + ns.pid()
                + "/root/tmp/l/lower")).count()).isEqualTo(1);
    }

    /**
     * A tmpfs hidden under a later mount on the same mount point cannot be marked through its path, yet a
     * descriptor opened into it before still reaches its files: the scan says so, and clears it once the
     * mount above is gone and the filesystem is marked.
     */
    @Test
    void aFilesystemHiddenUnderALaterMountIsReportedUntilItIsMarked() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Namespace ns = daemon.namespace("appraise fsmagic=0x01021994\n");
        ns.shOk("mkdir -p /tmp/a && mount -t tmpfs below /tmp/a && echo hello > /tmp/a/f"
                + " && mount -t tmpfs above /tmp/a");
        String dev = ns.shOk("awk '{for (i = 1; i <= NF; i++) if ($i == \"-\" && $(i + 2) == \"below\") print $3}'"
                + " /proc/self/mountinfo").out().strip();
        assertThat(dev).matches("\\d+:\\d+");
        daemon.enforcement().rescanMounts();
        java.nio.file.Path health = daemon.control.resolve(".imans/health");
        assertThat(java.nio.file.Files.readString(health)).contains("filesystem-unmarked dev " + dev + " since ",
                "cannot mark tmpfs /proc/" + ns.pid() + "/root/tmp/a", "hidden under a later mount");

        ns.shOk("umount /tmp/a");
        assertDeniedWithin(ns, "cat /tmp/a/f", 5000);
        daemon.enforcement().rescanMounts();
        assertThat(java.nio.file.Files.readString(health)).doesNotContain("dev " + dev + " ");
    }

    /**
     * A filesystem mounted below a FUSE mount is not walked to (a FUSE server that stops answering would
     * hold the scan, and with it every namespace's new mounts and every policy write): it is reported
     * instead. The FUSE mount here is the daemon's own control filesystem, seen in the namespace.
     */
    @Test
    void aFilesystemBelowAFuseMountIsReportedNotWalked() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Namespace ns = daemon.namespace("appraise fsmagic=0x01021994\n");
        Path below = daemon.control.resolve(Long.toString(ns.nsid));
        ns.shOk("mount -t tmpfs belowfuse " + below);
        String dev = ns.shOk("awk '{for (i = 1; i <= NF; i++) if ($i == \"-\" && $(i + 2) == \"belowfuse\") print $3}'"
                + " /proc/self/mountinfo").out().strip();
        assertThat(dev).matches("\\d+:\\d+");
        daemon.enforcement().rescanMounts();
        assertThat(java.nio.file.Files.readString(daemon.control.resolve(".imans/health")))
                .contains("filesystem-unmarked dev " + dev + " since ", "below a FUSE mount");
        ns.shOk("umount " + below);
        daemon.enforcement().rescanMounts();
        assertThat(java.nio.file.Files.readString(daemon.control.resolve(".imans/health")))
                .doesNotContain("dev " + dev + " ");
    }

    @Test
    void pathsBelowAFuseMountAreToldApart() {
        java.util.List<dev.imans.linux.MountInfo> all = java.util.List.of(
                mount(1, "/", "ext4"), mount(2, "/run/user/1000/doc", "fuse.portal"), mount(3, "/mnt/f", "fuse"),
                mount(4, "/mnt/fb", "tmpfs"));
        assertThat(MountTracker.underFuse("/mnt/f/x", all)).isTrue();
        assertThat(MountTracker.underFuse("/run/user/1000/doc/a/b", all)).isTrue();
        assertThat(MountTracker.underFuse("/mnt/f", all)).as("the FUSE mount point itself").isFalse();
        assertThat(MountTracker.underFuse("/mnt/fb", all)).as("a sibling sharing a prefix").isFalse();
        assertThat(MountTracker.underFuse("/mnt/fb/x", all)).isFalse();
        assertThat(MountTracker.underFuse("/srv", java.util.List.of(mount(1, "/", "fuse.fuse-overlayfs"))))
                .as("a FUSE root holds everything").isTrue();
        assertThat(MountTracker.underFuse("/", java.util.List.of(mount(1, "/", "fuse.fuse-overlayfs")))).isFalse();
    }

    private static dev.imans.linux.MountInfo mount(int id, String at, String type) {
        return new dev.imans.linux.MountInfo(id, 1, 0, id, "/", at, "rw", java.util.List.of(), type, "src", "rw");
    }
}
