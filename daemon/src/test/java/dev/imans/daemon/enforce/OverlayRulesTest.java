package dev.imans.daemon.enforce;

import static dev.imans.daemon.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import dev.imans.daemon.fanotify.EngineMetrics;
import dev.imans.ns.AppraiseSetting;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Opens through a real overlay are judged on the overlay's facts, as kernel IMA judges the opened
 * (overlay) inode: {@code fsmagic=0x794c7630} rules match them, the layer's filesystem rules do not, and
 * each open is judged, measured and audited once although overlayfs opens the backing file on the layer
 * too (a second fanotify event there, silenced by its private mount's ignore mark).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class OverlayRulesTest {
    private static final String OVERLAY = "0x794c7630";
    private static final String TMPFS = "0x01021994";
    private static final String HELLO_SHA256 = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";

    private DaemonFixture daemon;

    @AfterEach
    void tearDown() throws Exception {
        if (daemon != null) {
            daemon.close();
        }
    }

    /**
     * A registered namespace with a tmpfs-layered overlay at /tmp/merged (lower /tmp/lower), then under
     * {@code policy} (whose write marks the overlay before it returns). The setup and overlayfs's own
     * files made at mount time come before the policy, so lists hold only what the tests open.
     */
    private Namespace withOverlay(String policy, String setup) throws Exception {
        Namespace ns = daemon.registered();
        ns.shOk("mkdir -p /tmp/lower /tmp/upper /tmp/work /tmp/merged && " + setup
                + " && " + overlay("/tmp/lower", "/tmp/upper", "/tmp/work", "/tmp/merged"));
        daemon.policy(ns, policy);
        return ns;
    }

    /** The shell command that mounts an overlay of {@code lower} (its upper and work directories given) on {@code merged}. */
    private static String overlay(String lower, String upper, String work, String merged) {
        return "mount -t overlay overlay -o lowerdir=" + lower + ",upperdir=" + upper + ",workdir=" + work + " " + merged;
    }

    private static String labelled(String path) {
        return "echo hello > " + path + " && setfattr -n security.ima -v 0x0404" + HELLO_SHA256 + " " + path;
    }

    private static void assertDenied(Run.Result r) {
        assertThat(r.exit()).as(r.toString()).isNotZero();
        assertThat(r.err()).contains("Operation not permitted");
    }

    private List<String> causes() throws Exception {
        return daemon.appraisalRecords().stream().map(r -> r.value("cause").orElseThrow()).toList();
    }

    private List<String> listNames(Namespace ns) throws Exception {
        return Files.readString(daemon.control.resolve(ns.nsid + "/ascii_runtime_measurements"), StandardCharsets.UTF_8)
                .lines().map(l -> l.substring(l.lastIndexOf(' ') + 1)).toList();
    }

    private EngineMetrics layers() {
        return daemon.enforcement().engine().metrics();
    }

    /**
     * The layer engine's events other than the daemon's own opens, once both counters hold still: the two
     * are read one after the other, and one of the daemon's own events between the reads made the
     * difference move by one without any open of the test's.
     */
    private long layerEventsNotOwn() throws InterruptedException {
        while (true) {
            long events = layers().events();
            long own = layers().selfAllowed();
            Thread.sleep(50);
            if (layers().events() == events && layers().selfAllowed() == own) {
                return events - own;
            }
        }
    }

    private EngineMetrics overlays() {
        return daemon.enforcement().overlayEngine().metrics();
    }

    @Test
    void anOverlayRuleMatchesOpensThroughTheOverlayAndNotTheSameFileOnItsLayer() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Namespace ns = withOverlay("appraise fsmagic=" + OVERLAY + " func=FILE_CHECK\n",
                "echo plain > /tmp/lower/f && " + labelled("/tmp/lower/g"));
        assertDenied(ns.sh("cat /tmp/merged/f"));
        assertThat(ns.shOk("cat /tmp/merged/g").out()).isEqualTo("hello\n");
        // The layer's own filesystem is tmpfs: the rule does not reach it.
        assertThat(ns.shOk("cat /tmp/lower/f").out()).isEqualTo("plain\n");
        assertThat(causes()).containsExactly("missing-hash");
    }

    @Test
    void aDenialThroughAnOverlayOnTwoFilesystemsNamesTheOverlayAsItsDevice() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Namespace ns = daemon.registered();
        // Layers on two filesystems and no xino: a lower file reports a pseudo device of its layer
        // (ovl_map_dev_ino), not the overlay's, while the kernel audits the overlay inode (dev="overlay").
        ns.shOk("mkdir -p /tmp/lower /tmp/upper /tmp/work /tmp/merged && mount -t tmpfs lowerfs /tmp/lower"
                + " && echo plain > /tmp/lower/f"
                + " && " + overlay("/tmp/lower", "/tmp/upper", "/tmp/work", "/tmp/merged"));
        assertThat(ns.shOk("stat -c %d /tmp/merged/f").out()).isNotEqualTo(ns.shOk("stat -c %d /tmp/merged").out());
        daemon.policy(ns, "appraise fsmagic=" + OVERLAY + " func=FILE_CHECK\n");
        assertDenied(ns.sh("cat /tmp/merged/f"));
        assertThat(daemon.appraisalRecords()).singleElement()
                .satisfies(r -> assertThat(r.value("dev")).contains("overlay"));
    }

    @Test
    void aLayerFileJudgedThroughOneOverlayIsKnownThroughAnotherUntilItChanges() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Namespace ns = daemon.registered();
        // Two containers of one image: two overlays of the same lower layer, each with its upper layer.
        ns.shOk("mkdir -p /tmp/lower /tmp/u1 /tmp/w1 /tmp/m1 /tmp/u2 /tmp/w2 /tmp/m2 && " + labelled("/tmp/lower/g")
                + " && " + overlay("/tmp/lower", "/tmp/u1", "/tmp/w1", "/tmp/m1")
                + " && " + overlay("/tmp/lower", "/tmp/u2", "/tmp/w2", "/tmp/m2"));
        assertThat(ns.shOk("stat -c %d /tmp/m1/g").out()).isNotEqualTo(ns.shOk("stat -c %d /tmp/m2/g").out());
        daemon.policy(ns, "appraise fsmagic=" + OVERLAY + " func=FILE_CHECK\n");
        var metrics = daemon.enforcement().metrics();
        assertThat(ns.shOk("cat /tmp/m1/g").out()).isEqualTo("hello\n");
        assertThat(metrics.sharedLayerFiles.sum()).isZero();
        assertThat(ns.shOk("cat /tmp/m2/g").out()).isEqualTo("hello\n");
        assertThat(metrics.sharedLayerFiles.sum()).as("the second overlay's file").isEqualTo(1);
        // Changed in the layer (same size, label kept): neither overlay's file is taken for the old version;
        // the first overlay's file starts from what the second learnt of the new one.
        ns.shOk("printf 'HELLO\\n' > /tmp/lower/g");
        assertDenied(ns.sh("cat /tmp/m2/g"));
        assertDenied(ns.sh("cat /tmp/m1/g"));
        assertThat(metrics.sharedLayerFiles.sum()).isEqualTo(2);
        assertThat(causes()).containsExactly("invalid-hash", "invalid-hash");
    }

    @Test
    void filesOfTwoLayersWithTheSameInodeNumberAreNotShared() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Namespace ns = daemon.registered();
        // Two lower layers on two tmpfs instances: their first files get the same inode number.
        ns.shOk("mkdir -p /tmp/l1 /tmp/l2 /tmp/u1 /tmp/w1 /tmp/m1 /tmp/u2 /tmp/w2 /tmp/m2"
                + " && mount -t tmpfs l1 /tmp/l1 && mount -t tmpfs l2 /tmp/l2"
                + " && " + labelled("/tmp/l1/g") + " && echo plain > /tmp/l2/g"
                + " && " + overlay("/tmp/l1", "/tmp/u1", "/tmp/w1", "/tmp/m1")
                + " && " + overlay("/tmp/l2", "/tmp/u2", "/tmp/w2", "/tmp/m2"));
        assertThat(ns.shOk("stat -c %i /tmp/l1/g").out()).isEqualTo(ns.shOk("stat -c %i /tmp/l2/g").out());
        daemon.policy(ns, "appraise fsmagic=" + OVERLAY + " func=FILE_CHECK\n");
        assertThat(ns.shOk("cat /tmp/m1/g").out()).isEqualTo("hello\n");
        assertDenied(ns.sh("cat /tmp/m2/g"));
        assertThat(daemon.enforcement().metrics().sharedLayerFiles.sum()).isZero();
    }

    @Test
    void aLayerFilesystemRuleDoesNotMatchOpensThroughTheOverlay() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Namespace ns = withOverlay("appraise fsmagic=" + TMPFS + " func=FILE_CHECK\n", "echo plain > /tmp/lower/f");
        // As the kernel: the opened inode is the overlay's, whatever filesystem holds the backing file.
        assertThat(ns.shOk("cat /tmp/merged/f").out()).isEqualTo("plain\n");
        assertDenied(ns.sh("cat /tmp/lower/f"));
        assertThat(causes()).containsExactly("missing-hash");
        assertThat(layers().backingMountsIgnored()).as("the lower layer's private mount").isPositive();
    }

    @Test
    void anExecThroughTheOverlayIsAppraisedOnTheOverlay() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Namespace ns = withOverlay("appraise fsmagic=" + OVERLAY + " func=BPRM_CHECK\n",
                "cp /bin/echo /tmp/lower/plain && cp /bin/echo /tmp/lower/good"
                + " && setfattr -n security.ima -v 0x0404$(sha256sum /tmp/lower/good | cut -d' ' -f1) /tmp/lower/good");
        assertDenied(ns.sh("/tmp/merged/plain ran"));
        assertThat(ns.shOk("/tmp/merged/good ran").out()).isEqualTo("ran\n");
        assertThat(ns.shOk("/tmp/lower/plain ran").out()).isEqualTo("ran\n");
    }

    @Test
    void anOpenThroughTheOverlayIsMeasuredOnceUnderItsOverlayName() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Namespace ns = withOverlay("measure func=FILE_CHECK\n", "echo one > /tmp/lower/f");
        assertThat(ns.shOk("cat /tmp/merged/f").out()).isEqualTo("one\n");
        assertThat(listNames(ns)).containsExactly("boot_aggregate", "/tmp/merged/f");
    }

    @Test
    void dontMeasureOverlayKeepsOverlayOpensOutOfTheListAndLayerOpensIn() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        // Keylime's usual exclusion of container files.
        Namespace ns = withOverlay("dont_measure fsmagic=" + OVERLAY + "\nmeasure func=FILE_CHECK\n",
                "echo one > /tmp/lower/f");
        assertThat(ns.shOk("cat /tmp/merged/f").out()).isEqualTo("one\n");
        assertThat(ns.shOk("cat /tmp/lower/f").out()).isEqualTo("one\n");
        assertThat(listNames(ns)).containsExactly("boot_aggregate", "/tmp/lower/f");
    }

    @Test
    void aPassingOverlayFileTakesTheKernelsFastPathInBothEngines() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Namespace ns = withOverlay("appraise fsmagic=" + OVERLAY + "\n", labelled("/tmp/lower/g"));
        assertThat(ns.shOk("cat /tmp/merged/g").out()).isEqualTo("hello\n");
        eventually(() -> assertThat(overlays().ignoreMarksAdded()).isPositive());
        long overlayEvents = overlays().events();
        long layerEvents = layerEventsNotOwn();
        assertThat(ns.shOk("cat /tmp/merged/g").out()).isEqualTo("hello\n");
        assertThat(overlays().events()).as("the overlay inode's ignore mark").isEqualTo(overlayEvents);
        assertThat(layerEventsNotOwn()).as("the backing mount's ignore mark")
                .isEqualTo(layerEvents);
    }

    /**
     * Differs from the kernel in one case: a truncating write open of a labelled lower file. The kernel
     * appraises after overlayfs has copied it up without its data (empty under the copied label) and
     * refuses; the permission event comes before the copy-up, where the content still matches, so the
     * open is allowed as on any other filesystem (ima_file_check runs before handle_truncate) and the
     * rewritten file is refused at its next read.
     */
    @Test
    void tamperingThroughTheOverlayIsCaughtAfterCopyUp() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Namespace ns = withOverlay("appraise fsmagic=" + OVERLAY + "\n",
                labelled("/tmp/lower/f") + " && " + labelled("/tmp/lower/g"));
        assertThat(ns.shOk("cat /tmp/merged/f").out()).isEqualTo("hello\n");
        // An appending write copies the data up with security.ima; the new content no longer matches it.
        ns.shOk("echo tampered >> /tmp/merged/f");
        eventually(() -> assertDenied(ns.sh("cat /tmp/merged/f")));
        assertThat(causes()).contains("invalid-hash");
        ns.shOk("echo tampered > /tmp/merged/g");
        assertDenied(ns.sh("cat /tmp/merged/g"));
        assertThat(causes()).containsExactly("invalid-hash", "invalid-hash");
    }

    @Test
    void aLowerFileChangedUnderTheOverlayIsAppraisedAgain() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Namespace ns = withOverlay("appraise fsmagic=" + OVERLAY + "\n", labelled("/tmp/lower/f"));
        assertThat(ns.shOk("cat /tmp/merged/f").out()).isEqualTo("hello\n");
        eventually(() -> assertThat(overlays().ignoreMarksAdded()).isPositive());
        // Written on the layer, where the overlay sees no write (kernel IMA checks the backing inode's
        // version for this, ima_main.c since 6.8).
        Run.ok("sh", "-c", "echo more >> " + ns.hostPath("/tmp/lower/f"));
        eventually(() -> assertDenied(ns.sh("cat /tmp/merged/f")));
        assertThat(causes()).contains("invalid-hash");
    }

    /**
     * The layers' filesystem moved after the overlay was mounted (as a runtime that mounts a root and
     * then pivots into it leaves it): the mount options name a path that leads nowhere, so writes to the
     * layers cannot be watched. No overlay file may then keep an ignore mark, or a write beside the
     * overlay would be served unjudged; the state is shown, and ends with the overlay.
     */
    @Test
    void anOverlayWhoseLayersCannotBeReachedIsJudgedAtEveryOpenAndSaysSo() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Namespace ns = daemon.registered();
        ns.shOk("mkdir -p /tmp/a /tmp/b /tmp/merged && mount -t tmpfs layers /tmp/a"
                + " && mkdir /tmp/a/lower /tmp/a/upper /tmp/a/work && " + labelled("/tmp/a/lower/f")
                + " && " + overlay("/tmp/a/lower", "/tmp/a/upper", "/tmp/a/work", "/tmp/merged")
                + " && mount --move /tmp/a /tmp/b");
        daemon.policy(ns, "appraise fsmagic=" + OVERLAY + "\n");
        java.nio.file.Path health = daemon.control.resolve(".imans/health");
        assertThat(Files.readString(health)).startsWith("overlay-layers-unwatched dev ")
                .contains("/tmp/a/lower, /tmp/a/upper");
        assertThat(ns.shOk("cat /tmp/merged/f").out()).isEqualTo("hello\n");
        assertThat(ns.shOk("cat /tmp/merged/f").out()).isEqualTo("hello\n");
        assertThat(overlays().ignoreMarksAdded()).isZero();
        ns.shOk("echo more >> /tmp/b/lower/f");
        assertDenied(ns.sh("cat /tmp/merged/f"));
        assertThat(causes()).containsExactly("invalid-hash");
        ns.shOk("umount /tmp/merged");
        daemon.enforcement().rescanMounts();
        eventually(() -> assertThat(Files.readString(health)).isEqualTo("ok\n"));
    }
}
