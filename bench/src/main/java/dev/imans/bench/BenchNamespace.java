package dev.imans.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A mount namespace that holds nothing but the benchmark's filesystems, kept by a sleeping member: a
 * tmpfs as its root (files under {@code /files}, the opener at {@code /bin/openloop}) and an ext4 image
 * on a loop device at {@code /ext4} (files under {@code /ext4/files}). The host's filesystems are gone
 * from it (pivot_root, then the old root detached), so a policy for the namespace that appraises every
 * ext4 file covers the benchmark's ext4 only, not the host's root filesystem as well. An overlay at
 * {@code /overlay}, as a container's root would be, has its one layer on the root tmpfs (files under
 * {@code /overlay/files}, written to the layer at {@code /layer/lower/files} before any is opened).
 */
final class BenchNamespace implements AutoCloseable {
    private static final String SETUP = """
            set -e
            mp=$0
            mount -t tmpfs -o size=2g imans-bench "$mp"
            mkdir "$mp/bin" "$mp/files" "$mp/ext4" "$mp/old"
            cp "$1" "$mp/bin/openloop"
            cp "$(command -v busybox)" "$mp/bin/busybox"
            truncate -s 1G "$mp/ext4.img"
            mkfs.ext4 -q -F "$mp/ext4.img"
            mount -o loop "$mp/ext4.img" "$mp/ext4"
            mkdir "$mp/ext4/files"
            mkdir -p "$mp/layer/lower/files" "$mp/layer/upper" "$mp/layer/work" "$mp/overlay"
            cd "$mp"
            pivot_root . old
            exec /bin/busybox sh -c '/bin/busybox umount -l /old && /bin/busybox rmdir /old &&
                /bin/busybox mount -t overlay -o lowerdir=/layer/lower,upperdir=/layer/upper,workdir=/layer/work \
                    imans-bench-overlay /overlay && echo ready && exec /bin/busybox sleep 86400'
            """;

    /** The benchmark's filesystems, as the namespace names them. */
    enum Fs {
        TMPFS("tmpfs", "/files"),
        EXT4("ext4 (loop)", "/ext4/files"),
        /** An overlay whose one layer is a tmpfs: each open is an event on the overlay and its answer. */
        OVERLAY("overlay on tmpfs", "/overlay/files"),
        /**
         * A tmpfs of the host's, opened by a host process while the namespace has the configuration's
         * policy: what imans costs where no policy can reach.
         */
        HOST("host tmpfs, host opener", HOST_DIR);

        final String text;
        final String dir;

        Fs(String text, String dir) {
            this.text = text;
            this.dir = dir;
        }

        boolean onHost() {
            return this == HOST;
        }
    }

    /** Where {@link Fs#HOST}'s tmpfs is mounted on the host while the benchmark runs. */
    static final String HOST_DIR = "/run/imans-bench-host";

    private final Process holder;
    private final Path mountPoint;
    final long nsid;

    BenchNamespace(Path openLoop) throws IOException {
        mountPoint = Files.createTempDirectory(Path.of("/run"), "imans-bench-ns.");
        holder = new ProcessBuilder("unshare", "-m", "--propagation", "private", "sh", "-c", SETUP,
                mountPoint.toString(), openLoop.toString())
                .redirectErrorStream(true).start();
        String line = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8))
                .readLine();
        if (!"ready".equals(line)) {
            holder.destroyForcibly();
            throw new IOException("could not make the benchmark namespace: " + line);
        }
        String link = Files.readSymbolicLink(Path.of("/proc/" + holder.pid() + "/ns/mnt")).toString();
        nsid = Long.parseLong(link.substring(5, link.length() - 1));
    }

    long pid() {
        return holder.pid();
    }

    /** {@code path} of the namespace as the host reaches it. */
    Path hostPath(String path) {
        return Path.of("/proc/" + pid() + "/root" + path);
    }

    /** Where the host reaches the files of {@code fs}. */
    Path hostPath(Fs fs) {
        return fs.onHost() ? Path.of(fs.dir) : hostPath(fs.dir);
    }

    /** Where the host writes the files of {@code fs}: for the overlay, its layer. */
    Path hostLayerPath(Fs fs) {
        return fs == Fs.OVERLAY ? hostPath("/layer/lower/files") : hostPath(fs);
    }

    @Override
    public void close() throws InterruptedException, IOException {
        holder.destroyForcibly();
        holder.waitFor(10, TimeUnit.SECONDS);
        Files.deleteIfExists(mountPoint);
    }

    /** Removes {@code dir} and everything under it (what a benchmark's daemon left). */
    static void deleteTree(Path dir) throws IOException {
        try (java.util.stream.Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
