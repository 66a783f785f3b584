package dev.imans.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

/**
 * {@code imans daemon} as a separate JVM (signals must reach a process of its own), with its control
 * filesystem, state, audit log and standard error under a fresh directory in /run. It marks only tmpfs
 * filesystems mounted inside registered namespaces, so the host's files are never held up.
 */
final class DaemonProcess implements AutoCloseable {
    final Path base;
    final Path control;
    final Path state;
    final Path auditLog;
    final Path log;
    final Process process;
    /** As the value of JOURNAL_STREAM in {@code env}: the device and inode of the daemon's log file. */
    static final String OWN_LOG = "<own log>";
    /**
     * In {@code extra}: the daemon runs its start's rehearsal, which the others leave out
     * ({@code --no-rehearsal}): a few seconds of CPU each, beside the tests' own work, that no other test is about.
     */
    static final String REHEARSING = "+rehearsal";

    DaemonProcess(String... extra) throws IOException, InterruptedException {
        this(true, extra);
    }

    /** With {@code awaitReady} false, returns once the daemon has begun to start (its first log line). */
    DaemonProcess(boolean awaitReady, String... extra) throws IOException, InterruptedException {
        this(Path.of("/run/imans-test-" + UUID.randomUUID()), "daemon.log", awaitReady, extra);
    }

    /**
     * A daemon in the directory of an earlier one (after {@link #kill}): the same control path, state and
     * audit log, its standard error in {@code logName}.
     */
    DaemonProcess(Path base, String logName, boolean awaitReady, String... extra)
            throws IOException, InterruptedException {
        this(base, logName, List.of(), Map.of(), awaitReady, extra);
    }

    /**
     * With {@code env} added to the daemon's environment. Unless {@code extra} names a config file, the
     * daemon reads none (a host's /etc/imans/imans.conf must not change what a test runs).
     */
    DaemonProcess(Map<String, String> env, boolean awaitReady, String... extra) throws IOException, InterruptedException {
        this(List.of(), env, awaitReady, extra);
    }

    /** Run through {@code wrapper} (a command that execs the rest of its arguments, e.g. setpriv). */
    DaemonProcess(List<String> wrapper, Map<String, String> env, boolean awaitReady, String... extra)
            throws IOException, InterruptedException {
        this(Path.of("/run/imans-test-" + UUID.randomUUID()), "daemon.log", wrapper, env, awaitReady, extra);
    }

    private DaemonProcess(Path base, String logName, List<String> wrapper, Map<String, String> env,
            boolean awaitReady, String... extra) throws IOException, InterruptedException {
        this.base = base;
        this.control = base.resolve("ima");
        this.state = base.resolve("state");
        this.auditLog = base.resolve("audit.log");
        this.log = base.resolve(logName);
        Files.createDirectories(base);
        // Created before the daemon starts, so a test can name its inode (JOURNAL_STREAM).
        if (!Files.exists(log)) {
            Files.createFile(log);
        }
        // Dispositions as a service manager gives them, whatever the suite inherited (run under nohup or
        // in the background, HUP or INT would reach the daemon ignored); a wrapper may change them again.
        List<String> cmd = new ArrayList<>(List.of("env", "--default-signal=HUP,INT,TERM"));
        cmd.addAll(wrapper);
        cmd.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                "dev.imans.cli.Main", "daemon", "--control", control.toString(), "--state", state.toString(),
                "--audit-log", auditLog.toString(), "--watch-fs", "tmpfs", "--namespace-filesystems-only"));
        if (Stream.of(extra).noneMatch(a -> a.startsWith("--config"))) {
            cmd.addAll(List.of("--config", "/dev/null"));
        }
        if (!List.of(extra).contains(REHEARSING)) {
            cmd.add("--no-rehearsal");
        }
        cmd.addAll(Stream.of(extra).filter(a -> !a.equals(REHEARSING)).toList());
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        // What the test JVM may have inherited from a service manager is not the test's to pass on.
        pb.environment().keySet().removeAll(List.of("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "JOURNAL_STREAM"));
        pb.environment().putAll(env);
        if (OWN_LOG.equals(env.get("JOURNAL_STREAM"))) {
            pb.environment().put("JOURNAL_STREAM", Files.getAttribute(log, "unix:dev") + ":"
                    + Files.getAttribute(log, "unix:ino"));
        }
        process = pb.start();
        if (!awaitReady) {
            await("the daemon to begin", () -> log().contains("starting: ") || !process.isAlive());
            return;
        }
        await("the daemon to be ready", () -> Files.exists(control.resolve("namespaces")) || !process.isAlive());
        if (!process.isAlive()) {
            throw new IOException("daemon exited: " + log());
        }
        // Handlers are installed right after the control filesystem is up.
        await("the signal handlers", () -> log().contains("ready: "));
        Thread.sleep(300);
    }

    long pid() {
        return process.pid();
    }

    /**
     * SIGKILL: the daemon dies wherever it is, as in a crash. Its control filesystem is left unanswered,
     * so it is detached (the directory stays for a daemon started in {@code base} after it).
     */
    void kill() throws IOException, InterruptedException {
        signal("KILL");
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            throw new IOException("daemon " + pid() + " did not die of SIGKILL");
        }
        if (controlMounted()) {
            new ProcessBuilder("umount", "-l", control.toString()).start().waitFor(10, TimeUnit.SECONDS);
        }
    }

    void signal(String name) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(pid())).inheritIO().start();
        if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
            throw new IOException("kill -" + name + " failed");
        }
    }

    /** The daemon's standard error so far. */
    String log() {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    boolean controlMounted() throws IOException {
        return Files.readString(Path.of("/proc/self/mountinfo")).contains(" " + control + " ");
    }

    /** Registers {@code nsid} and writes {@code policy} to its policy file; returns once the policy reads back. */
    void register(long nsid, String policy) throws IOException, InterruptedException {
        Files.writeString(control.resolve("namespaces"), nsid + "\n");
        Path file = control.resolve(nsid + "/policy");
        Files.writeString(file, policy);
        String action = policy.strip().split("\\s+")[0];
        await("the policy in force", () -> {
            try {
                return Files.readString(file).contains(action);
            } catch (IOException e) {
                return false;
            }
        });
    }

    static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }

    /** Stops the daemon and unmounts its control filesystem, keeping {@code base} (see {@link #close}). */
    void stop() throws IOException, InterruptedException {
        if (process.isAlive()) {
            process.destroy();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        }
        if (controlMounted()) {
            new ProcessBuilder("umount", "-l", control.toString()).start().waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Override
    public void close() throws IOException, InterruptedException {
        stop();
        if (!Files.exists(base)) {
            // A daemon started after this one in the same directory removed it already.
            return;
        }
        try (Stream<Path> s = Files.walk(base)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
