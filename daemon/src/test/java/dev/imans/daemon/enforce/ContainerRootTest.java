package dev.imans.daemon.enforce;

import static dev.imans.daemon.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.imans.ns.AppraiseSetting;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A container's root as runc, podman and containerd make it: mounted in the host's namespace (a tmpfs,
 * or an overlay of tmpfs layers), then seen by the container's mount namespace. The daemon marks only
 * filesystems of registered namespaces ({@code --namespace-filesystems-only}, as {@link DaemonFixture}
 * runs it), and the root must be among them.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ContainerRootTest {
    private static final String HELLO_SHA256 = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";

    private final Path runtime = Path.of("/run/imans-rootfs-" + UUID.randomUUID());
    private DaemonFixture daemon;

    @BeforeEach
    void setUp() throws Exception {
        Files.createDirectories(runtime);
    }

    @AfterEach
    void tearDown() throws Exception {
        if (daemon != null) {
            daemon.close();
        }
        // Deepest first; the namespaces holding copies are gone with the fixture.
        Run.run("sh", "-c", "umount " + runtime + "/merged 2>/dev/null; umount " + runtime + "/rootfs 2>/dev/null; "
                + "umount " + runtime + "/layers 2>/dev/null; rm -rf " + runtime);
    }

    /** An unlabelled file and a labelled one in {@code dir}, written by the host. */
    private static void files(Path dir) throws Exception {
        Run.ok("sh", "-c", "echo hello > " + dir + "/unlabelled && echo hello > " + dir + "/labelled && setfattr -n"
                + " security.ima -v 0x0404" + HELLO_SHA256 + " " + dir + "/labelled");
    }

    private static void assertDenied(Run.Result r) {
        assertThat(r.exit()).as(r.toString()).isNotZero();
        assertThat(r.err()).contains("Operation not permitted");
    }

    @Test
    void aTmpfsRootMountedOnTheHostIsEnforcedInTheContainer() throws Exception {
        Path rootfs = runtime.resolve("rootfs");
        Files.createDirectories(rootfs);
        Run.ok("mount", "-t", "tmpfs", "imans-rootfs", rootfs.toString());
        files(rootfs);
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Namespace ns = daemon.namespace("appraise fsmagic=0x01021994\n");
        // The runtime's bind of the root into the container's tree.
        ns.shOk("mkdir /tmp/root && mount --bind " + rootfs + " /tmp/root");

        assertDenied(ns.sh("cat /tmp/root/unlabelled"));
        assertDenied(ns.sh("cat " + rootfs + "/unlabelled"));
        assertThat(ns.sh("cat /tmp/root/labelled").out()).isEqualTo("hello\n");
        // The host has no policy: the same file opens there.
        assertThat(Run.ok("cat", rootfs + "/unlabelled")).isEqualTo("hello\n");
    }

    @Test
    void aHostMountedRootThatCannotBeMarkedIsADegradedStateAndItsWriterIsTold() throws Exception {
        Path rootfs = runtime.resolve("rootfs");
        Files.createDirectories(rootfs);
        Run.ok("mount", "-t", "tmpfs", "imans-rootfs", rootfs.toString());
        files(rootfs);
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        daemon.enforcement().injectMarkFault(p -> p.equals(rootfs));
        Namespace ns = daemon.registered();
        ns.shOk("mkdir /tmp/root && mount --bind " + rootfs + " /tmp/root");
        // The policy brings the host-mounted root under coverage; its mark fails: the close says so.
        assertThatThrownBy(() -> daemon.policy(ns, "appraise fsmagic=0x01021994\n"))
                .isInstanceOf(java.io.IOException.class).hasMessageContaining("Input/output error");
        Path health = daemon.control.resolve(".imans/health");
        assertThat(Files.readString(health)).startsWith("filesystem-unmarked dev ")
                .contains("mounted on the host, seen by namespace " + ns.nsid, "its opens are not checked");

        daemon.enforcement().injectMarkFault(p -> false);
        eventually(() -> assertThat(Files.readString(health)).isEqualTo("ok\n"));
        assertDenied(ns.sh("cat /tmp/root/unlabelled"));
    }

    @Test
    void anOverlayRootOfTmpfsLayersMountedOnTheHostIsEnforcedInTheContainer() throws Exception {
        Path layers = runtime.resolve("layers");
        Path merged = runtime.resolve("merged");
        Files.createDirectories(layers);
        Files.createDirectories(merged);
        Run.ok("mount", "-t", "tmpfs", "imans-layers", layers.toString());
        Run.ok("mkdir", layers + "/lower", layers + "/upper", layers + "/work");
        files(layers.resolve("lower"));
        Run.ok("mount", "-t", "overlay", "overlay", "-o", "lowerdir=" + layers + "/lower,upperdir=" + layers
                + "/upper,workdir=" + layers + "/work", merged.toString());
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        // The overlay itself is marked (its opens are judged on the overlay's facts), not its layers'
        // tmpfs, which only the host sees.
        Namespace ns = daemon.namespace("appraise fsmagic=0x794c7630\n");

        assertDenied(ns.sh("cat " + merged + "/unlabelled"));
        assertThat(ns.sh("cat " + merged + "/labelled").out()).isEqualTo("hello\n");
        assertThat(Run.ok("cat", merged + "/unlabelled")).isEqualTo("hello\n");
        long layerEvents = daemon.enforcement().engine().metrics().events();
        assertThat(Run.ok("cat", layers + "/lower/unlabelled")).isEqualTo("hello\n");
        assertThat(daemon.enforcement().engine().metrics().events()).as("layers unmarked").isEqualTo(layerEvents);
        // A write on the host beside the overlay (the layer's own file) is seen although the layers'
        // filesystem has no permission mark: the container's next read is judged again.
        eventually(() -> assertThat(daemon.enforcement().overlayEngine().metrics().ignoreMarksAdded()).isPositive());
        Run.ok("sh", "-c", "echo more >> " + layers + "/lower/labelled");
        eventually(() -> assertDenied(ns.sh("cat " + merged + "/labelled")));
    }

    @Test
    void aHostFilesystemNoPolicyCoversStaysUnmarked() throws Exception {
        Path rootfs = runtime.resolve("rootfs");
        Files.createDirectories(rootfs);
        Run.ok("mount", "-t", "tmpfs", "imans-rootfs", rootfs.toString());
        files(rootfs);
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Namespace ns = daemon.namespace("appraise fsmagic=0xef53\n");
        long events = daemon.enforcement().engine().metrics().events();
        assertThat(ns.sh("cat " + rootfs + "/unlabelled").out()).isEqualTo("hello\n");
        assertThat(daemon.enforcement().engine().metrics().events()).as("no mark, no event").isEqualTo(events);
    }
}
