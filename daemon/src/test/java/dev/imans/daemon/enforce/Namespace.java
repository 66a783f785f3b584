package dev.imans.daemon.enforce;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A real mount namespace ({@code unshare -m}) with its own tmpfs at /tmp, kept alive by a sleeping
 * member; commands run inside it with {@code nsenter -m}. Closing it kills the member, which ends the
 * namespace and its tmpfs.
 */
final class Namespace implements AutoCloseable {
    final Process holder;
    final long nsid;

    Namespace() throws IOException, InterruptedException {
        holder = new ProcessBuilder("unshare", "-m", "--propagation", "private", "sh", "-c",
                "mount -t tmpfs -o size=600m imans-ns /tmp && readlink /proc/self/ns/mnt && exec sleep 600")
                .redirectErrorStream(true).start();
        BufferedReader r = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
        String line;
        try {
            line = CompletableFuture.supplyAsync(() -> {
                try {
                    return r.readLine();
                } catch (IOException e) {
                    return null;
                }
            }).get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            holder.destroyForcibly();
            throw new IOException("namespace did not start", e);
        }
        if (line == null || !line.startsWith("mnt:[")) {
            holder.destroyForcibly();
            throw new IOException("namespace did not start: " + line);
        }
        nsid = Long.parseLong(line.substring(5, line.length() - 1));
    }

    int pid() {
        return (int) holder.pid();
    }

    /** Runs {@code script} with sh inside the namespace. */
    Run.Result sh(String script) throws IOException, InterruptedException {
        return Run.run(List.of("nsenter", "-t", Integer.toString(pid()), "-m", "sh", "-c", script));
    }

    /** Runs {@code script} with sh inside the namespace, for at most {@code seconds}. */
    Run.Result sh(String script, long seconds) throws IOException, InterruptedException {
        return Run.run(List.of("nsenter", "-t", Integer.toString(pid()), "-m", "sh", "-c", script), seconds);
    }

    Run.Result shOk(String script) throws IOException, InterruptedException {
        Run.Result r = sh(script);
        if (!r.ok()) {
            throw new IOException("in namespace " + nsid + ": " + script + " failed (" + r.exit() + "): " + r.err());
        }
        return r;
    }

    /** {@code path} inside the namespace as the host reaches it. */
    Path hostPath(String path) {
        return Path.of("/proc/" + pid() + "/root" + path);
    }

    @Override
    public void close() throws InterruptedException {
        holder.destroyForcibly();
        holder.waitFor(10, TimeUnit.SECONDS);
    }
}
