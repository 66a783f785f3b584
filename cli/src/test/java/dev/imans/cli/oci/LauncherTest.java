package dev.imans.cli.oci;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runtimes run hooks with the environment the hook entry gives (often none): {@code bin/imans} must
 * find a JDK >= 25 under /usr/lib/jvm without PATH or JAVA_HOME, and skip a JAVA_HOME that is too old.
 */
class LauncherTest {
    @TempDir
    Path tmp;

    private String run(Map<String, String> env, String... args) throws Exception {
        String[] cmd = new String[args.length + 1];
        cmd[0] = Launcher.IMANS.toString();
        System.arraycopy(args, 0, cmd, 1, args.length);
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(tmp.toFile()).redirectErrorStream(true)
                .redirectOutput(tmp.resolve("out").toFile());
        pb.environment().clear();
        pb.environment().putAll(env);
        Process p = pb.start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String out = Files.readString(tmp.resolve("out"));
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }

    @Test
    void runsWithOnlyTheJarInItsEnvironment() throws Exception {
        Path jar = Launcher.jar(tmp);
        assertThat(run(Map.of("IMANS_JAR", jar.toString()), "--version")).startsWith("imans ");
        // A poststop call, as a runtime makes it: nothing to do, nothing said.
        assertThat(run(Map.of("IMANS_JAR", jar.toString()), "oci-hook", "--state",
                Files.writeString(tmp.resolve("s.json"),
                        "{\"ociVersion\":\"1.0.2\",\"id\":\"c\",\"status\":\"stopped\",\"bundle\":\"/b\"}").toString()))
                .isEmpty();
    }

    @Test
    void skipsAJavaHomeOlderThan25() throws Exception {
        Path old = Path.of("/usr/lib/jvm/java-17-openjdk-amd64");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(old.resolve("bin/java")), "no JDK 17 here");
        assertThat(run(Map.of("IMANS_JAR", Launcher.jar(tmp).toString(), "JAVA_HOME", old.toString()), "--version"))
                .startsWith("imans ");
    }
}
