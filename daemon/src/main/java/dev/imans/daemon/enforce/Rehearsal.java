package dev.imans.daemon.enforce;

import dev.imans.appraise.AppraiseMode;
import dev.imans.audit.AuditEncoder;
import dev.imans.audit.AuditFormat;
import dev.imans.crypto.HashAlgo;
import dev.imans.crypto.Keyring;
import dev.imans.daemon.Log;
import dev.imans.daemon.audit.AuditWriter;
import dev.imans.daemon.fanotify.EngineMetrics;
import dev.imans.daemon.health.Health;
import dev.imans.linux.LinuxException;
import dev.imans.linux.Xattr;
import dev.imans.policy.PolicyException;
import dev.imans.policy.PolicyParser;
import dev.imans.xattr.ImaXattr;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

/**
 * The last part of the start's warm-up: a container start in miniature, judged for real. A private
 * instance of the engines ({@link Enforcement#launch} without anything that reaches the host's files)
 * appraises every file of a mount namespace made for it, while {@code cat} reads a thousand labelled
 * files through five overlays of one layer (the first a cold appraisal of each file, the other four the
 * shared-layer path a second container of an image takes), execs a copy of itself through each, and
 * reads the layer directly once (the filesystems engine).
 *
 * <p>Why: {@link Warmup} runs the decision's pieces, but the reader loop, the overlay paths and the
 * marker are reached only by real events, and until the JIT compiler has seen them a container's
 * first opens are judged by the interpreter and compete with the compiler for the CPUs: a second
 * container's python3 start took 1.24 of its time without imans in a fresh daemon, 1.07 in one warmed by
 * another container (bench/run.sh start, 2026-11-30).
 *
 * <p>The namespace holds nothing but a tmpfs of its own as its root (pivot_root, the old root detached),
 * the overlays on it and a /proc, so the private policy's marks cover its own files alone: no open of the host
 * is sent to the private engines. The namespace, its marks and everything the private engines learnt
 * are gone when it ends; the daemon's own engines, cache, audit, lists and metrics see none of it.
 */
final class Rehearsal {
    /** Overlays and tmpfs, as a container's root and its /dev/shm would be. */
    static final String POLICY = "appraise fsmagic=0x794c7630\nappraise fsmagic=0x01021994\n";
    static final int FILES = 1000;
    static final int CONTAINERS = 5;
    private static final long TIMEOUT_SECONDS = 60;

    /*
     * Mounts a tmpfs over /tmp (in this namespace only), copies the shell, cat, mount and umount with the
     * libraries ldd names into it, and waits for the daemon to write and label the layer's files; then
     * makes the tmpfs the root, detaches the host's mounts (umount finds them in a /proc of its own),
     * mounts the overlays (after the pivot, so their options name layers the daemon reaches through
     * /proc/PID/root), and waits for the daemon's engines before reading.
     */
    private static final String SCRIPT = """
            set -e
            mount -t tmpfs -o size=256m,mode=0755 imans-rehearsal /tmp
            cd /tmp
            mkdir old bin layer
            for b in sh cat mount umount; do cp -L "$(command -v $b)" bin/; done
            for f in $( (ldd bin/sh; ldd bin/cat; ldd bin/mount; ldd bin/umount) 2>/dev/null | grep -o '/[^ )]*' | sort -u); do
                cp --parents -L "$f" .
            done
            cp bin/cat layer/cat
            touch null
            mount --bind /dev/null null
            readlink /proc/self/ns/mnt
            read go
            for c in %1$s; do mkdir c$c c$c/upper c$c/work c$c/merged; done
            mkdir proc
            mount -t proc imans-rehearsal proc
            pivot_root . old
            exec /bin/sh -c 'set -e; cd /; umount -l /old
                for c in %1$s; do
                    mount -t overlay imans-rehearsal -o lowerdir=/layer,upperdir=/c$c/upper,workdir=/c$c/work /c$c/merged
                done
                echo ready; read go
                for c in %1$s; do /c$c/merged/cat /c$c/merged/f* > /null; done
                /c1/merged/cat /c1/merged/f* > /null
                /bin/cat /layer/f* > /null
                echo done; read end'
            """;

    /** What the rehearsal's engines did: events read and answered, and how. */
    record Result(long events, long allowed, long denied, long sharedLayerFiles, long filesystemsMarked) {
        @Override
        public String toString() {
            return events + " events rehearsed (" + allowed + " allowed, " + denied + " denied, " + sharedLayerFiles
                    + " from a layer judged before, on " + filesystemsMarked + " filesystems of its own)";
        }
    }

    private Rehearsal() {}

    /**
     * Runs it; returns what its engines did, or throws why it could not (nothing depends on it but the
     * speed of the first containers' opens). Ends early, by killing its namespace, once {@code stopped}.
     */
    static Result run(EnforcementConfig daemon, BooleanSupplier stopped)
            throws IOException, PolicyException, InterruptedException {
        String containers = String.join(" ", Stream.iterate(1, i -> i + 1).limit(CONTAINERS).map(String::valueOf)
                .toList());
        Process holder = new ProcessBuilder("unshare", "-m", "--propagation", "private", "sh", "-c",
                SCRIPT.formatted(containers)).redirectErrorStream(true).start();
        Thread watchdog = Thread.ofPlatform().daemon().name("imans-rehearsal-watchdog").start(() -> {
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
            try {
                while (holder.isAlive() && !stopped.getAsBoolean() && System.nanoTime() < end) {
                    holder.waitFor(50, TimeUnit.MILLISECONDS);
                }
            } catch (InterruptedException e) {
                // Closing: the namespace goes below.
            }
            holder.destroyForcibly();
        });
        Enforcement e = null;
        Health health = new Health();
        AuditWriter audit = new AuditWriter(AuditEncoder.of(AuditFormat.CURRENT), List.of());
        try (BufferedReader out = new BufferedReader(new InputStreamReader(holder.getInputStream(),
                StandardCharsets.UTF_8)); OutputStream in = holder.getOutputStream()) {
            String line = out.readLine();
            if (line == null || !line.startsWith("mnt:[")) {
                throw new IOException("its namespace did not start: " + rest(line, out));
            }
            long nsid = Long.parseLong(line.substring(5, line.length() - 1));
            Path root = Path.of("/proc/" + holder.pid() + "/root/tmp");
            writeLayer(root.resolve("layer"), daemon.hashAlgo());
            labelTheRest(root, daemon.hashAlgo());
            say(in, "go");
            line = out.readLine();
            if (!"ready".equals(line)) {
                throw new IOException("its namespace was not made: " + rest(line, out));
            }
            Scope host = new Scope(OptionalLong.empty(), dev.imans.policy.Policy.empty(), AppraiseMode.ENFORCE, false,
                    Keyring.empty());
            Scope own = new Scope(OptionalLong.of(nsid), PolicyParser.parse(POLICY), AppraiseMode.ENFORCE, false,
                    Keyring.empty());
            Policies policies = new Policies(host, Map.of(nsid, own));
            EnforcementConfig config = daemon.withFilesystems(Set.of("tmpfs", "overlay"), true)
                    .withRehashOnClose(Set.of()).withKeyring(Keyring.empty()).withRehearsal(false);
            NamespaceDirectory directory = () -> List.of(new NamespaceDirectory.Member(nsid, (int) holder.pid()));
            e = Enforcement.launch(config, () -> policies, directory, audit, Measurements.NONE, health,
                    new NamespaceLineage(dev.imans.linux.Namespaces.ownMountNamespaceInode()), true);
            if (stopped.getAsBoolean()) {
                throw new InterruptedException("the daemon is stopping");
            }
            say(in, "go");
            line = out.readLine();
            if (!"done".equals(line)) {
                throw new IOException("its opens did not finish: " + rest(line, out));
            }
            EngineMetrics files = e.engine().metrics();
            EngineMetrics overlays = e.overlayEngine().metrics();
            return new Result(files.events() + overlays.events(), files.allowed() + overlays.allowed(),
                    files.denied() + overlays.denied(), e.metrics().sharedLayerFiles.sum(),
                    e.metrics().filesystemsMarked.sum());
        } finally {
            if (e != null) {
                e.close();
            }
            health.close();
            audit.close();
            holder.destroyForcibly();
            holder.waitFor(10, TimeUnit.SECONDS);
            watchdog.interrupt();
        }
    }

    private static void say(OutputStream in, String word) throws IOException {
        in.write((word + "\n").getBytes(StandardCharsets.US_ASCII));
        in.flush();
    }

    /** The line read and what the script printed after it (its error, as a rule). */
    private static String rest(String line, BufferedReader out) {
        StringBuilder b = new StringBuilder(line == null ? "(no output)" : line);
        try {
            for (String l = out.readLine(); l != null && b.length() < 2000; l = out.readLine()) {
                b.append(" | ").append(l);
            }
        } catch (IOException ignored) {
            // The script's output ends with it.
        }
        return b.toString();
    }

    /**
     * The layer's files, labelled: sizes of a program's modules and libraries (mostly a few KiB to tens
     * of KiB, now and then one past 64 KiB, judged on the worker pool), random contents. One buffer for
     * all of them: a fresh array per file grew the daemon's heap by tens of MiB for a few seconds.
     */
    private static void writeLayer(Path layer, HashAlgo algo) throws IOException, LinuxException {
        Random random = new Random(1);
        byte[] buffer = new byte[300_000];
        java.security.MessageDigest md = algo.newDigest();
        for (int i = 0; i < FILES; i++) {
            int size = i % 25 == 0 ? 100_000 + random.nextInt(200_000) : 512 + random.nextInt(40_000);
            random.nextBytes(buffer);
            Path file = layer.resolve("f%04d".formatted(i));
            try (OutputStream out = Files.newOutputStream(file)) {
                out.write(buffer, 0, size);
            }
            md.update(buffer, 0, size);
            Xattr.set(file, Xattr.SECURITY_IMA, ImaXattr.hash(algo, md.digest()).encode());
        }
    }

    /**
     * Labels every other regular file under {@code root} (the copied programs and libraries, the copy of
     * cat in the layer) with its digest, read through one buffer.
     */
    private static void labelTheRest(Path root, HashAlgo algo) throws IOException, LinuxException {
        List<Path> files;
        try (Stream<Path> s = Files.walk(root)) {
            files = s.filter(p -> Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS))
                    .filter(p -> !p.getParent().endsWith("layer") || !p.getFileName().toString().startsWith("f"))
                    .toList();
        }
        byte[] buffer = new byte[64 * 1024];
        java.security.MessageDigest md = algo.newDigest();
        for (Path p : files) {
            try (java.io.InputStream in = Files.newInputStream(p)) {
                for (int n; (n = in.read(buffer)) > 0; ) {
                    md.update(buffer, 0, n);
                }
            }
            Xattr.set(p, Xattr.SECURITY_IMA, ImaXattr.hash(algo, md.digest()).encode());
        }
    }
}
