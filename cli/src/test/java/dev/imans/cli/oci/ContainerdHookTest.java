package dev.imans.cli.oci;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code imans oci-hook} under a real containerd (1.6, Debian's), which cannot add OCI hooks: {@code ctr
 * run --runc-binary} names {@code examples/oci/runc-imans}, which adds the hook to each bundle. This test
 * starts its own containerd (root, state, socket and config under a temporary directory, the CRI plugin
 * off) with an environment that holds only {@code PATH} and {@code IMANS_HOOK_ARGS=--config FILE}: the
 * hook's settings, the daemon's control directory first, come from that file, which stands in for
 * {@code /etc/imans/imans.conf} (this machine's /etc is not the test's to write). The image is an OCI
 * archive written here with {@code security.ima} in its layer's PAX headers ({@code tar --xattrs}),
 * imported with {@code ctr image import}. Skipped where containerd is not installed.
 */
@EnabledIf("containerdInstalled")
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ContainerdHookTest {
    private static final String NS = "imans-test";
    private static final String IMAGE = "localhost/imans-ctr-test:1";
    private static final String OVERLAY_MAGIC = "0x794c7630";
    private static final Path RUNC_IMANS = Launcher.IMANS.getParent().getParent().resolve("examples/oci/runc-imans");
    private static final HexFormat HEX = HexFormat.of();

    @TempDir
    Path tmp;

    TestDaemon daemon;
    Process containerd;
    Path socket;
    Path conf;
    Path runcImans;
    final List<String> containers = new ArrayList<>();
    /** ctr's fifos and the shims' sockets go under this fixed directory whatever the config says. */
    static final Path RUN_CONTAINERD = Path.of("/run/containerd");
    boolean runContainerdExisted;

    static boolean containerdInstalled() {
        return Files.isExecutable(Path.of("/usr/bin/containerd")) && Files.isExecutable(Path.of("/usr/bin/ctr"));
    }

    private Bundle.Proc ctr(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("ctr", "--address", socket.toString(), "--namespace", NS));
        cmd.addAll(List.of(args));
        return Bundle.Proc.run(tmp, 60, cmd.toArray(String[]::new));
    }

    /** {@code ctr run -d} of {@code IMAGE} through runc-imans, runc's state kept under the test's directory. */
    private Bundle.Proc run(String id, List<String> options, String... command) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("run", "-d", "--runc-binary", runcImans.toString(),
                "--runc-root", tmp.resolve("runc").toString()));
        cmd.addAll(options);
        cmd.add(IMAGE);
        cmd.add(id);
        cmd.addAll(List.of(command));
        containers.add(id);
        return ctr(cmd.toArray(String[]::new));
    }

    @BeforeEach
    void start() throws Exception {
        runContainerdExisted = Files.exists(RUN_CONTAINERD);
        // The image's files are read through the container's overlay root: enforce on overlays seen by
        // registered namespaces.
        daemon = new TestDaemon(Set.of("overlay"));
        // An installation as the package lays it out (bin/imans, lib/imans/runc-imans), so runc-imans
        // finds the launcher by its own path; the launcher runs the classes under test.
        Path opt = tmp.resolve("opt");
        Path launcher = Files.createDirectories(opt.resolve("bin")).resolve("imans");
        Files.writeString(launcher, "#!/bin/sh\nIMANS_JAR='" + Launcher.jar(tmp) + "' exec '" + Launcher.IMANS
                + "' \"$@\"\n");
        Files.setPosixFilePermissions(launcher, PosixFilePermissions.fromString("rwxr-xr-x"));
        runcImans = Files.copy(RUNC_IMANS, Files.createDirectories(opt.resolve("lib/imans")).resolve("runc-imans"));
        conf = tmp.resolve("imans.conf");
        Files.writeString(conf, "control = " + daemon.control + "\n");

        Path toml = tmp.resolve("containerd.toml");
        socket = tmp.resolve("containerd.sock");
        // Plugins that would write outside the test's directory (/opt/containerd) or need a network are off.
        Files.writeString(toml, """
                version = 2
                root = "%s"
                state = "%s"
                disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.internal.v1.opt",
                  "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
                  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
                  "io.containerd.tracing.processor.v1.otlp"]
                [grpc]
                  address = "%s"
                """.formatted(tmp.resolve("root"), tmp.resolve("state"), socket));
        containerd = new ProcessBuilder("env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
                "IMANS_HOOK_ARGS=--config " + conf, "containerd", "--config", toml.toString())
                .redirectErrorStream(true).redirectOutput(tmp.resolve("containerd.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!Files.exists(socket) || ctr("version").exit() != 0) {
            assertThat(containerd.isAlive()).as(Files.readString(tmp.resolve("containerd.log"))).isTrue();
            assertThat(System.nanoTime()).as("containerd ready").isLessThan(deadline);
            Thread.sleep(100);
        }
        Path archive = image();
        ctr("image", "import", archive.toString()).requireSuccess("ctr image import");
    }

    /**
     * An OCI archive of one layer: busybox, labelled so the container can run under an appraise rule
     * for its whole root, and /data/good (labelled), /data/bad (labelled, then changed) and
     * /data/plain (no label).
     */
    private Path image() throws Exception {
        Bundle bundle = Bundle.create(Files.createDirectories(tmp.resolve("bundle")));
        Path rootfs = bundle.dir.resolve("rootfs");
        for (String name : List.of("good", "bad", "plain")) {
            Files.writeString(rootfs.resolve("data").resolve(name), "hello\n");
        }
        label(rootfs.resolve("bin/busybox"));
        label(rootfs.resolve("data/good"));
        label(rootfs.resolve("data/bad"));
        Files.writeString(rootfs.resolve("data/bad"), "tampered\n", java.nio.file.StandardOpenOption.APPEND);
        Path layer = tmp.resolve("layer.tar");
        Bundle.Proc.run(tmp, 60, "tar", "--xattrs", "--xattrs-include=security.ima", "--numeric-owner",
                "--owner=0", "--group=0", "-C", rootfs.toString(), "-cf", layer.toString(), ".").requireSuccess("tar");

        Path oci = Files.createDirectories(tmp.resolve("oci"));
        Files.createDirectories(oci.resolve("blobs/sha256"));
        String layerDigest = blob(oci, Files.readAllBytes(layer));
        byte[] config = ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"/bin/sh\"]},"
                + "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:" + layerDigest + "\"]}}")
                .getBytes(StandardCharsets.UTF_8);
        String configDigest = blob(oci, config);
        byte[] manifest = ("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                + "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:"
                + configDigest + "\",\"size\":" + config.length + "},\"layers\":[{\"mediaType\":"
                + "\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"sha256:" + layerDigest + "\",\"size\":"
                + Files.size(layer) + "}]}").getBytes(StandardCharsets.UTF_8);
        String manifestDigest = blob(oci, manifest);
        Files.writeString(oci.resolve("index.json"), "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":"
                + "\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:" + manifestDigest
                + "\",\"size\":" + manifest.length + ",\"annotations\":{\"org.opencontainers.image.ref.name\":\""
                + IMAGE + "\"}}]}");
        Files.writeString(oci.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
        Path archive = tmp.resolve("image.tar");
        Bundle.Proc.run(tmp, 60, "tar", "-C", oci.toString(), "-cf", archive.toString(), ".").requireSuccess("tar");
        return archive;
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HEX.formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    private static String blob(Path oci, byte[] bytes) throws Exception {
        String digest = sha256(bytes);
        Files.write(oci.resolve("blobs/sha256").resolve(digest), bytes);
        return digest;
    }

    private void label(Path file) throws Exception {
        Bundle.Proc.run(tmp, 30, "setfattr", "-n", "security.ima", "-v", "0x0404" + sha256(Files.readAllBytes(file)),
                file.toString()).requireSuccess("setfattr " + file);
    }

    @AfterEach
    void stop() throws Exception {
        try {
            if (containerd != null && containerd.isAlive()) {
                for (String id : containers) {
                    ctr("task", "kill", "--signal", "SIGKILL", id);
                    waitForTaskExit(id);
                    ctr("task", "delete", id);
                    ctr("container", "delete", id);
                }
                ctr("image", "rm", IMAGE);
            }
        } finally {
            if (containerd != null) {
                containerd.destroy();
                if (!containerd.waitFor(20, TimeUnit.SECONDS)) {
                    containerd.destroyForcibly();
                    containerd.waitFor(10, TimeUnit.SECONDS);
                }
            }
            leftOvers();
            unmountUnder(tmp);
            if (!runContainerdExisted && Files.exists(RUN_CONTAINERD)) {
                // Made by this test's ctr and shims (fifos, shim sockets a killed shim left): all of it is ours.
                try (Stream<Path> all = Files.walk(RUN_CONTAINERD)) {
                    for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
                        Files.deleteIfExists(p);
                    }
                }
            }
            if (daemon != null) {
                daemon.close();
            }
        }
    }

    /**
     * What a failed clean-up through ctr leaves: containers in this test's runc root, and shims of this
     * test's containerd (they outlive it), found by the socket address on their command line.
     */
    private void leftOvers() throws Exception {
        // The shim gives runc --root RUNC_ROOT/NAMESPACE.
        Path runcRoot = tmp.resolve("runc").resolve(NS);
        if (Files.isDirectory(runcRoot)) {
            for (String id : Bundle.Proc.run(tmp, 30, "runc", "--root", runcRoot.toString(), "list", "-q").out()
                    .lines().filter(l -> !l.isBlank()).toList()) {
                Bundle.Proc.run(tmp, 30, "runc", "--root", runcRoot.toString(), "delete", "--force", id);
            }
        }
        if (socket == null) {
            return;
        }
        for (ProcessHandle shim : ProcessHandle.allProcesses().filter(h -> h.info().commandLine()
                .filter(c -> c.contains("containerd-shim") && c.contains(socket.toString())).isPresent()).toList()) {
            shim.destroyForcibly();
            shim.onExit().get(10, TimeUnit.SECONDS);
        }
    }

    private void waitForTaskExit(String id) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            Bundle.Proc ls = ctr("task", "ls");
            if (ls.out().lines().noneMatch(l -> l.startsWith(id + " ") && l.contains("RUNNING"))) {
                return;
            }
            Thread.sleep(100);
        }
    }

    /** Snapshot and shm mounts containerd left (it unmounts them itself when stopped in order). */
    private static void unmountUnder(Path dir) throws IOException, InterruptedException {
        List<String> points = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            String point = line.split(" ")[4];
            if (point.startsWith(dir + "/")) {
                points.add(point);
            }
        }
        for (String p : points.reversed()) {
            new ProcessBuilder("umount", "-l", p).start().waitFor(10, TimeUnit.SECONDS);
        }
    }

    private String taskPid(String id) throws Exception {
        Bundle.Proc ls = ctr("task", "ls");
        ls.requireSuccess("ctr task ls");
        return ls.out().lines().filter(l -> l.startsWith(id + " ")).map(l -> l.trim().split("\\s+")[1]).findFirst()
                .orElseThrow(() -> new AssertionError("no task " + id + " in " + ls.out()));
    }

    private static String nsid(String pid) throws IOException {
        return Files.readSymbolicLink(Path.of("/proc/" + pid + "/ns/mnt")).toString().replaceAll("\\D", "");
    }

    @Test
    void aLabelledImageFileIsReadTamperedAndUnlabelledOnesAreRefusedInsideAndTheNamespaceGoesWithTheContainer()
            throws Exception {
        // containerd's importer keeps the layer's security.ima: the unpacked snapshot holds the labels.
        try (Stream<Path> files = Files.walk(tmp.resolve("root/io.containerd.snapshotter.v1.overlayfs/snapshots"))) {
            Path good = files.filter(p -> p.endsWith("data/good")).findFirst().orElseThrow();
            Bundle.Proc xattr = Bundle.Proc.run(tmp, 30, "getfattr", "-n", "security.ima", "-e", "hex",
                    good.toString());
            assertThat(xattr.out()).contains("security.ima=0x0404"
                    + sha256("hello\n".getBytes(StandardCharsets.UTF_8)));
        }

        Bundle.Proc run = run("imans-c1", List.of("--annotation", "dev.imans.policy=appraise fsmagic=" + OVERLAY_MAGIC),
                "sleep", "120");
        assertThat(run.exit()).as(run.out() + Files.readString(tmp.resolve("containerd.log"))).isZero();
        String pid = taskPid("imans-c1");
        String nsid = nsid(pid);
        assertThat(daemon.namespaces()).contains(nsid + " enforce 1 ");
        assertThat(daemon.policy(nsid)).isEqualTo("appraise fsmagic=" + OVERLAY_MAGIC + " \n");
        assertThat(Files.readString(runcImansConfig("imans-c1"))).contains("\"createRuntime\"")
                .contains("\"--config\"");

        Bundle.Proc good = ctr("task", "exec", "--exec-id", "good", "imans-c1", "cat", "/data/good");
        assertThat(good.exit()).as(good.out()).isZero();
        assertThat(good.out()).isEqualTo("hello\n");
        Bundle.Proc bad = ctr("task", "exec", "--exec-id", "bad", "imans-c1", "cat", "/data/bad");
        assertThat(bad.exit()).isNotZero();
        assertThat(bad.out()).contains("can't open '/data/bad': Operation not permitted");
        Bundle.Proc plain = ctr("task", "exec", "--exec-id", "plain", "imans-c1", "cat", "/data/plain");
        assertThat(plain.exit()).isNotZero();
        assertThat(plain.out()).contains("can't open '/data/plain': Operation not permitted");
        String audit = Files.readString(daemon.auditLog);
        assertThat(audit).containsPattern("cause=\"invalid-hash\" comm=\"cat\" name=\"/data/bad\" mnt_ns=" + nsid
                + " dev=\"overlay\"");
        assertThat(audit).containsPattern("cause=\"missing-hash\" comm=\"cat\" name=\"/data/plain\" mnt_ns=" + nsid
                + " dev=\"overlay\"");
        // The host, whose namespace has no policy, reads the changed file through the same overlay.
        assertThat(Files.readString(Path.of("/proc/" + pid + "/root/data/bad"))).isEqualTo("hello\ntampered\n");

        ctr("task", "kill", "--signal", "SIGKILL", "imans-c1").requireSuccess("ctr task kill");
        waitForTaskExit("imans-c1");
        ctr("task", "delete", "imans-c1").requireSuccess("ctr task delete");
        ctr("container", "delete", "imans-c1").requireSuccess("ctr container delete");
        containers.remove("imans-c1");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (daemon.namespaces().contains(nsid + " ") && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertThat(daemon.namespaces()).as("unregistered once its last process is gone").doesNotContain(nsid + " ");
    }

    /** The bundle containerd wrote for a container, as runc-imans left it. */
    private Path runcImansConfig(String id) {
        return tmp.resolve("state/io.containerd.runtime.v2.task").resolve(NS).resolve(id).resolve("config.json");
    }

    @Test
    void theConfigFileGivesTheHookADefaultPolicyForContainersWithoutAnnotations() throws Exception {
        Path policy = Files.writeString(tmp.resolve("default.policy"), "appraise fsmagic=" + OVERLAY_MAGIC + "\n");
        Files.writeString(conf, "control = " + daemon.control + "\n\n[oci-hook]\ndefault-policy = " + policy + "\n");
        Bundle.Proc run = run("imans-c2", List.of(), "sleep", "120");
        assertThat(run.exit()).as(run.out()).isZero();
        String nsid = nsid(taskPid("imans-c2"));
        assertThat(daemon.policy(nsid)).isEqualTo("appraise fsmagic=" + OVERLAY_MAGIC + " \n");
        Bundle.Proc plain = ctr("task", "exec", "--exec-id", "plain", "imans-c2", "sh", "-c",
                "cat /data/good && cat /data/plain 2>&1");
        assertThat(plain.exit()).isNotZero();
        // ctr copies the task's stdout and stderr on separate streams, so only one stream keeps their order.
        assertThat(plain.out()).startsWith("hello\n").contains("can't open '/data/plain': Operation not permitted");
    }

    @Test
    void aBadConfigFileKeepsTheContainerFromStarting() throws Exception {
        Files.writeString(conf, "control = " + daemon.control + "\n[oci-hook]\npolicy-directory = /etc/imans\n");
        Bundle.Proc run = run("imans-c3", List.of("--annotation", "dev.imans.policy=appraise fsmagic=" + OVERLAY_MAGIC),
                "sh", "-c", "echo should-not-run; sleep 60");
        assertThat(run.exit()).isNotZero();
        assertThat(run.out()).contains("error running hook").contains(conf + ": unknown setting 'policy-directory'")
                .doesNotContain("should-not-run");
        assertThat(daemon.namespaces()).isEqualTo("nsid mode rules processes\nhost enforce 0 -\n");
    }
}
