package dev.imans.bench;

import dev.imans.crypto.HashAlgo;
import dev.imans.daemon.Daemon;
import dev.imans.daemon.DaemonConfig;
import dev.imans.daemon.enforce.EnforcementConfig;
import dev.imans.daemon.enforce.EnforcementMetrics;
import dev.imans.linux.Xattr;
import dev.imans.ns.AppraiseSetting;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The end-to-end open() benchmark: a process in a registered mount namespace opens, reads and closes
 * small files on a tmpfs, with no daemon, with a daemon that has no policy for the namespace, and with
 * a daemon appraising every file (pass 1 cold: each file appraised once; pass 2 hot: files already
 * appraised, answered by the kernel's ignore marks), and with a daemon measuring every file into the
 * namespace's list (each entry written to the list file before its open is answered), without and with
 * an fsync per write. Configurations are interleaved round by round;
 * the medians are printed as opens per second and as ratios to the no-daemon baseline of the same run.
 *
 * <p>Usage (as root): {@code OpenBenchmark [--files N] [--size BYTES] [--rounds R]}; defaults 20000,
 * 4096, 3. The opener is a child JVM started with {@code nsenter} (timed inside its loop).
 */
public final class OpenBenchmark {
    private static final String POLICY = "appraise fsmagic=0x01021994\n";
    private static final String MEASURE_POLICY = "measure fsmagic=0x01021994\n";

    private final int files;
    private final int size;
    private final int rounds;
    /** Absolute: the opener starts in the namespace's root directory, where relative entries mean nothing. */
    private final String classpath = Arrays.stream(System.getProperty("java.class.path").split(":"))
            .map(e -> Path.of(e).toAbsolutePath().toString()).collect(Collectors.joining(":"));

    OpenBenchmark(int files, int size, int rounds) {
        this.files = files;
        this.size = size;
        this.rounds = rounds;
    }

    static String fileName(int i) {
        return String.format("f%06d", i);
    }

    public static void main(String[] args) throws Exception {
        int files = 20_000;
        int size = 4096;
        int rounds = 3;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--files" -> files = Integer.parseInt(args[i + 1]);
                case "--size" -> size = Integer.parseInt(args[i + 1]);
                case "--rounds" -> rounds = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        new OpenBenchmark(files, size, rounds).run();
    }

    enum Config {
        NO_DAEMON("no daemon"),
        NO_POLICY("daemon, no policy for the namespace"),
        APPRAISE("daemon appraising every file"),
        MEASURE("daemon measuring every file"),
        MEASURE_FSYNC("daemon measuring every file, --measurements-fsync");

        final String text;

        Config(String text) {
            this.text = text;
        }

        String policy() {
            return switch (this) {
                case APPRAISE -> POLICY;
                case MEASURE, MEASURE_FSYNC -> MEASURE_POLICY;
                default -> null;
            };
        }
    }

    /** Runs every round and prints the table; returns the opens/s of each round's two passes per configuration. */
    Map<Config, List<double[]>> run() throws Exception {
        try (BenchNamespace ns = new BenchNamespace()) {
            Path dir = ns.hostPath(ns.filesDir());
            Files.createDirectories(dir);
            Random random = new Random(42);
            byte[] content = new byte[size];
            for (int i = 0; i < files; i++) {
                random.nextBytes(content);
                Path f = Files.write(dir.resolve(fileName(i)), content);
                byte[] digest = HashAlgo.SHA256.newDigest().digest(content);
                byte[] label = new byte[2 + digest.length];
                label[0] = 0x04;
                label[1] = 0x04;
                System.arraycopy(digest, 0, label, 2, digest.length);
                Xattr.set(f, Xattr.SECURITY_IMA, label);
            }
            System.out.printf("%d files of %d bytes on a tmpfs in mount namespace %d; %d rounds%n", files, size,
                    ns.nsid, rounds);
            Map<Config, List<double[]>> results = new LinkedHashMap<>();
            for (Config c : Config.values()) {
                results.put(c, new ArrayList<>());
            }
            for (int round = 1; round <= rounds; round++) {
                for (Config c : Config.values()) {
                    double[] r = measure(c, ns);
                    results.get(c).add(r);
                    System.out.printf("round %d  %-38s pass 1 %8.0f  pass 2 %8.0f opens/s%n", round, c.text, r[0], r[1]);
                }
            }
            report(results);
            return results;
        }
    }

    private double[] measure(Config c, BenchNamespace ns) throws Exception {
        if (c == Config.NO_DAEMON) {
            return openLoop(ns);
        }
        Path base = Path.of("/run/imans-bench-" + UUID.randomUUID());
        DaemonConfig config = new DaemonConfig(base.resolve("ima"), false, base.resolve("state"),
                Optional.of(base.resolve("audit.log")), AppraiseSetting.ENFORCE)
                .withEnforcement(EnforcementConfig.defaults().withFilesystems(Set.of("tmpfs"), true))
                .withMeasurementsFsync(c == Config.MEASURE_FSYNC);
        Daemon daemon = Daemon.start(config);
        try {
            Files.writeString(config.control().resolve("namespaces"), ns.nsid + "\n");
            if (c.policy() != null) {
                Files.writeString(config.control().resolve(ns.nsid + "/policy"), c.policy());
            }
            double[] r = openLoop(ns);
            EnforcementMetrics m = daemon.enforcement().orElseThrow().metrics();
            System.out.printf("         (%s)%n", m);
            return r;
        } finally {
            daemon.close();
            try (Stream<Path> s = Files.walk(base)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private double[] openLoop(BenchNamespace ns) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder("nsenter", "-t", Long.toString(ns.pid()), "-m", java, "-XX:+UseSerialGC",
                "-cp", classpath, OpenLoop.class.getName(), ns.filesDir(), Integer.toString(files), "2")
                .redirectErrorStream(true).start();
        double[] r = new double[2];
        try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                String[] f = line.split(" ");
                if (f.length == 4 && f[0].equals("pass")) {
                    r[Integer.parseInt(f[1]) - 1] = Double.parseDouble(f[2]);
                    if (!f[3].equals("0")) {
                        throw new IOException(f[3] + " opens failed in pass " + f[1]);
                    }
                } else {
                    System.out.println("opener: " + line);
                }
            }
        }
        if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IOException("opener failed");
        }
        return r;
    }

    private void report(Map<Config, List<double[]>> results) {
        double base1 = median(results.get(Config.NO_DAEMON), 0);
        double base2 = median(results.get(Config.NO_DAEMON), 1);
        System.out.println();
        System.out.println("| configuration | pass 1 (cold) opens/s | ratio | pass 2 (hot) opens/s | ratio |");
        System.out.println("|---|---|---|---|---|");
        for (var e : results.entrySet()) {
            double p1 = median(e.getValue(), 0);
            double p2 = median(e.getValue(), 1);
            System.out.printf("| %s | %.0f | %.2f | %.0f | %.2f |%n", e.getKey().text, p1, p1 / base1, p2, p2 / base2);
        }
    }

    private static double median(List<double[]> runs, int pass) {
        double[] v = runs.stream().mapToDouble(r -> r[pass]).sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    /**
     * A mount namespace with its own tmpfs, held by a sleeping member. The tmpfs goes on a fresh empty
     * directory rather than /tmp: the opener's JVM must still see its class path, which may live in /tmp.
     */
    private static final class BenchNamespace implements AutoCloseable {
        final Process holder;
        final long nsid;
        final Path mountPoint;

        BenchNamespace() throws IOException {
            mountPoint = Files.createTempDirectory(Path.of("/run"), "imans-bench-ns.");
            holder = new ProcessBuilder("unshare", "-m", "--propagation", "private", "sh", "-c",
                    "mount -t tmpfs -o size=1g imans-bench \"$0\" && readlink /proc/self/ns/mnt && exec sleep 86400",
                    mountPoint.toString())
                    .redirectErrorStream(true).start();
            String line = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8))
                    .readLine();
            if (line == null || !line.startsWith("mnt:[")) {
                holder.destroyForcibly();
                throw new IOException("could not make the benchmark namespace: " + line);
            }
            nsid = Long.parseLong(line.substring(5, line.length() - 1));
        }

        long pid() {
            return holder.pid();
        }

        /** Where the benchmark's files are, as the namespace sees them. */
        String filesDir() {
            return mountPoint + "/bench";
        }

        Path hostPath(String path) {
            return Path.of("/proc/" + pid() + "/root" + path);
        }

        @Override
        public void close() throws InterruptedException, IOException {
            holder.destroyForcibly();
            holder.waitFor(10, TimeUnit.SECONDS);
            Files.deleteIfExists(mountPoint);
        }
    }

}
