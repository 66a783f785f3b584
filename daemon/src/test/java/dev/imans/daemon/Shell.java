package dev.imans.daemon;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs real commands for tests, always with a bound on how long they may take. */
public final class Shell {
    private Shell() {}

    /** What a finished command left. */
    public record Result(int exit, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exit + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    /** Runs {@code sh -c script} with {@code env} added to the environment. */
    public static Result sh(String script, Map<String, String> env) throws IOException, InterruptedException {
        return run(List.of("sh", "-c", script), env, 30);
    }

    /** Runs {@code bash -c script}: bash, unlike dash, reports a failed write with the errno's text. */
    public static Result bash(String script, Map<String, String> env) throws IOException, InterruptedException {
        return run(List.of("bash", "-c", script), env, 30);
    }

    public static Result run(List<String> command, Map<String, String> env, int timeoutSeconds)
            throws IOException, InterruptedException {
        Path out = Files.createTempFile("imans-test", ".out");
        Path err = Files.createTempFile("imans-test", ".err");
        try {
            ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
            pb.environment().putAll(env);
            Process p = pb.start();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
                throw new AssertionError(command + " did not finish within " + timeoutSeconds + " s");
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** Starts a long-running command (e.g. {@code unshare -m sleep 60}); the caller kills it. */
    public static Process start(String... command) throws IOException {
        return new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    }

    /** Unmounts {@code dir} if something is still mounted there (test clean-up of last resort). */
    public static void forceUnmount(Path dir) {
        try {
            if (isMounted(dir)) {
                run(List.of("fusermount3", "-u", "-z", dir.toString()), Map.of(), 10);
                if (isMounted(dir)) {
                    run(List.of("umount", "-l", dir.toString()), Map.of(), 10);
                }
            }
        } catch (IOException | InterruptedException e) {
            throw new AssertionError("cannot unmount " + dir, e);
        }
    }

    public static boolean isMounted(Path dir) throws IOException {
        String want = " " + dir.toAbsolutePath() + " ";
        return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream().anyMatch(l -> l.contains(want));
    }
}
