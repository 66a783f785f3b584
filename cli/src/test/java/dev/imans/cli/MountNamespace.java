package dev.imans.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A real mount namespace ({@code unshare -m}) with its own tmpfs at /tmp, kept alive by a sleeping
 * member; commands run inside it with {@code nsenter -m}. Closing it kills the member, which ends the
 * namespace and its tmpfs.
 */
final class MountNamespace implements AutoCloseable {
    final Process holder;
    final long nsid;

    MountNamespace() throws IOException, InterruptedException {
        holder = new ProcessBuilder("unshare", "-m", "--propagation", "private", "sh", "-c",
                "mount -t tmpfs -o size=16m imans-ns /tmp && readlink /proc/self/ns/mnt && exec sleep 600")
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

    /** Runs {@code script} with sh inside the namespace. */
    Tools.Result sh(String script) throws IOException, InterruptedException {
        return Tools.run("nsenter", "-t", Long.toString(holder.pid()), "-m", "sh", "-c", script);
    }

    @Override
    public void close() throws InterruptedException {
        holder.destroyForcibly();
        holder.waitFor(10, TimeUnit.SECONDS);
    }
}
