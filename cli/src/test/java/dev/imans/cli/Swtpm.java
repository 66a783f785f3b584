package dev.imans.cli;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * A real software TPM ({@code swtpm socket --tpm2}) on loopback ports of its own, its state in {@code dir}:
 * the daemon reaches its data port as {@code tcp:127.0.0.1:PORT}, tpm2-tools through the swtpm TCTI.
 * Started up already ({@code startup-clear}): its PCRs are at their reset values.
 */
final class Swtpm implements AutoCloseable {
    final Path dir;
    final int port;
    private final Process process;

    Swtpm(Path dir) throws IOException, InterruptedException {
        this(dir, -1);
    }

    /** On {@code port} (and the next for control) when not negative: a TPM back where the daemon knows it. */
    Swtpm(Path dir, int fixedPort) throws IOException, InterruptedException {
        this.dir = Files.createDirectories(dir);
        Process p = null;
        int chosen = -1;
        for (int attempt = 0; attempt < 20 && p == null; attempt++) {
            int candidate = fixedPort >= 0 ? fixedPort : ThreadLocalRandom.current().nextInt(20_000, 60_000);
            if (!free(candidate) || !free(candidate + 1)) {
                Thread.sleep(fixedPort >= 0 ? 200 : 0);
                continue;
            }
            Process started = new ProcessBuilder("swtpm", "socket", "--tpm2",
                    "--server", "type=tcp,port=" + candidate + ",bindaddr=127.0.0.1",
                    "--ctrl", "type=tcp,port=" + (candidate + 1) + ",bindaddr=127.0.0.1",
                    "--tpmstate", "dir=" + dir, "--flags", "not-need-init,startup-clear")
                    .redirectErrorStream(true).redirectOutput(dir.resolve("swtpm.log").toFile()).start();
            if (awaitPort(started, candidate)) {
                p = started;
                chosen = candidate;
            } else {
                started.destroyForcibly();
                started.waitFor(10, TimeUnit.SECONDS);
            }
        }
        if (p == null) {
            throw new IOException("swtpm did not start: " + Files.readString(dir.resolve("swtpm.log")));
        }
        this.process = p;
        this.port = chosen;
    }

    static boolean installed() {
        try {
            return new ProcessBuilder("swtpm", "--version").start().waitFor() == 0
                    && new ProcessBuilder("tpm2_pcrread", "--version").start().waitFor() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    /** A port that, with the next one, nothing listens on now. */
    static int freePort() {
        while (true) {
            int candidate = ThreadLocalRandom.current().nextInt(20_000, 60_000);
            if (free(candidate) && free(candidate + 1)) {
                return candidate;
            }
        }
    }

    private static boolean free(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress("127.0.0.1", port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static boolean awaitPort(Process p, int port) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline && p.isAlive()) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 500);
                return true;
            } catch (IOException e) {
                Thread.sleep(50);
            }
        }
        return false;
    }

    /** The daemon's {@code --tpm} for this TPM. */
    String device() {
        return "tcp:127.0.0.1:" + port;
    }

    /** Runs a tpm2-tools command against this TPM in {@code dir}. */
    Tools.Result tool(String... cmd) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile());
        pb.environment().putAll(Map.of("TPM2TOOLS_TCTI", "swtpm:host=127.0.0.1,port=" + port));
        Process proc = pb.start();
        proc.getOutputStream().close();
        byte[] out = proc.getInputStream().readAllBytes();
        byte[] err = proc.getErrorStream().readAllBytes();
        return new Tools.Result(proc.waitFor(), new String(out), new String(err));
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
