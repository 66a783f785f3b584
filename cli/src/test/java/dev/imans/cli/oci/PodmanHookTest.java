package dev.imans.cli.oci;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code imans oci-hook} through podman's {@code --hooks-dir} and the example hook definition, with
 * private storage under a temporary directory (podman with runc, cgroupfs and lowered ulimits, as
 * this kind of machine needs). Skipped where podman is not installed.
 */
@EnabledIf("podmanInstalled")
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class PodmanHookTest {
    private static final String IMAGE = "localhost/imans-oci-test:1";

    @TempDir
    Path tmp;

    TestDaemon daemon;
    Path hooks;
    final List<String> containers = new ArrayList<>();

    static boolean podmanInstalled() {
        return Files.isExecutable(Path.of("/usr/bin/podman"));
    }

    private Bundle.Proc podman(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("env", "CONTAINERS_CONF=" + tmp.resolve("containers.conf"),
                "podman", "--root", tmp.resolve("storage").toString(), "--runroot", tmp.resolve("runroot").toString(),
                "--runtime", "runc", "--cgroup-manager", "cgroupfs", "--hooks-dir", hooks.toString()));
        cmd.addAll(List.of(args));
        return Bundle.Proc.run(tmp, 120, cmd.toArray(String[]::new));
    }

    @BeforeEach
    void image() throws Exception {
        // Enforcing on the tmpfs filesystems of registered namespaces (a container's --tmpfs).
        daemon = new TestDaemon(true);
        Files.writeString(tmp.resolve("containers.conf"), """
                [containers]
                default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]
                [engine]
                runtime = "runc"
                cgroup_manager = "cgroupfs"
                """);
        hooks = Files.createDirectories(tmp.resolve("hooks.d"));
        Path jar = Launcher.jar(tmp);
        String example = Files.readString(ExampleHookTest.EXAMPLE)
                .replace("\"/opt/imans/bin/imans\"", "\"" + Launcher.IMANS + "\"")
                .replace("\"/run/imans/ima\"]", "\"" + daemon.control + "\"],\n    \"env\": [\"IMANS_JAR=" + jar + "\"]");
        Files.writeString(hooks.resolve("imans.json"), example);
        Bundle bundle = Bundle.create(Files.createDirectories(tmp.resolve("bundle")));
        Bundle.Proc.run(tmp, 60, "tar", "-C", bundle.dir.resolve("rootfs").toString(), "-cf",
                tmp.resolve("rootfs.tar").toString(), ".").requireSuccess("tar");
        podman("import", "--change", "CMD [\"/bin/sh\"]", tmp.resolve("rootfs.tar").toString(), IMAGE)
                .requireSuccess("podman import");
    }

    @AfterEach
    void cleanUp() throws Exception {
        for (String id : containers) {
            podman("rm", "-f", id);
        }
        podman("rmi", "-f", IMAGE);
        if (daemon != null) {
            daemon.close();
        }
    }

    @Test
    void anAnnotatedContainerGetsItsPolicy() throws Exception {
        Bundle.Proc run = podman("run", "-d", "--name", "imans-oci-1", "--network", "none",
                // podman keeps only the first line of a multi-line --annotation value: the documented
                // one-line form separates rules with ';' (or a literal backslash-n).
                "--annotation", "dev.imans.policy=appraise fowner=0; measure func=BPRM_CHECK", IMAGE, "sleep", "60");
        containers.add("imans-oci-1");
        assertThat(run.exit()).as(run.out()).isZero();
        Bundle.Proc pid = podman("inspect", "-f", "{{.State.Pid}}", "imans-oci-1");
        pid.requireSuccess("podman inspect");
        String nsid = Files.readSymbolicLink(Path.of("/proc/" + pid.out().strip() + "/ns/mnt")).toString()
                .replaceAll("\\D", "");
        assertThat(daemon.policy(nsid)).isEqualTo("appraise fowner=0 \nmeasure func=BPRM_CHECK \n");
    }

    @Test
    void aBadPolicyAnnotationKeepsTheContainerFromStartingAndNoAnnotationRunsNoHook() throws Exception {
        Bundle.Proc bad = podman("run", "-d", "--name", "imans-oci-2", "--network", "none",
                "--annotation", "dev.imans.policy=appraise func=NOT_A_HOOK", IMAGE, "sleep", "60");
        containers.add("imans-oci-2");
        assertThat(bad.exit()).isNotZero();
        assertThat(bad.out()).contains("line 1, column 10: unknown func");
        Bundle.Proc plain = podman("run", "-d", "--name", "imans-oci-3", "--network", "none", IMAGE, "sleep", "60");
        containers.add("imans-oci-3");
        assertThat(plain.exit()).as(plain.out()).isZero();
        assertThat(daemon.namespaces()).isEqualTo("nsid mode rules processes\nhost enforce 0 -\n");
    }

    @Test
    void aLabelledFileIsReadATamperedOneRefusedInsideAndTheNamespaceGoesWithTheContainer() throws Exception {
        Bundle.Proc run = podman("run", "-d", "--name", "imans-oci-4", "--network", "none", "--tmpfs", "/data",
                "--annotation", "dev.imans.policy=appraise fsmagic=0x01021994", IMAGE, "sleep", "120");
        containers.add("imans-oci-4");
        assertThat(run.exit()).as(run.out()).isZero();
        Bundle.Proc pid = podman("inspect", "-f", "{{.State.Pid}}", "imans-oci-4");
        pid.requireSuccess("podman inspect");
        String nsid = Files.readSymbolicLink(Path.of("/proc/" + pid.out().strip() + "/ns/mnt")).toString()
                .replaceAll("\\D", "");
        assertThat(daemon.policy(nsid)).isEqualTo("appraise fsmagic=0x1021994 \n");
        // The container's own tmpfs, written and labelled from the host (this JVM is the daemon, whose
        // own opens are never held). "bad" is labelled for its content, then changed.
        Path data = Path.of("/proc/" + pid.out().strip() + "/root/data");
        String hello = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";
        for (String name : List.of("good", "bad")) {
            Files.writeString(data.resolve(name), "hello\n");
            Bundle.Proc.run(tmp, 30, "setfattr", "-n", "security.ima", "-v", "0x0404" + hello,
                    data.resolve(name).toString()).requireSuccess("setfattr");
        }
        Files.writeString(data.resolve("bad"), "tampered\n", java.nio.file.StandardOpenOption.APPEND);

        Bundle.Proc good = podman("exec", "imans-oci-4", "cat", "/data/good");
        assertThat(good.exit()).as(good.out()).isZero();
        assertThat(good.out()).isEqualTo("hello\n");
        Bundle.Proc bad = podman("exec", "imans-oci-4", "cat", "/data/bad");
        assertThat(bad.exit()).isNotZero();
        assertThat(bad.out()).contains("Operation not permitted");
        assertThat(Files.readString(daemon.auditLog)).contains("cause=\"invalid-hash\"").contains("name=\"/data/bad\"");

        podman("stop", "-t", "0", "imans-oci-4").requireSuccess("podman stop");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (daemon.namespaces().contains(nsid + " ") && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertThat(daemon.namespaces()).as("unregistered once its last process is gone").doesNotContain(nsid + " ");
    }
}
