package dev.imans.bench;

import dev.imans.bench.BenchNamespace.Fs;
import dev.imans.crypto.HashAlgo;
import dev.imans.daemon.Daemon;
import dev.imans.daemon.DaemonConfig;
import dev.imans.daemon.enforce.EnforcementConfig;
import dev.imans.daemon.enforce.EnforcementMetrics;
import dev.imans.daemon.fanotify.EngineMetrics;
import dev.imans.linux.Xattr;
import dev.imans.ns.AppraiseSetting;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The end-to-end open() benchmark: a C opener in a registered mount namespace opens, reads and closes
 * small labelled files, on a tmpfs, a loop-mounted ext4 and an overlay (a container root's kind of
 * filesystem, its layer on the tmpfs), under each configuration: no listener,
 * four native C listeners (the anchors: what the least a fanotify permission listener can do costs;
 * the last one with the open watch imans keeps on ignore-marked files, bench/native/listener.c),
 * a daemon that has no policy for the namespace, a daemon appraising every file, and a daemon measuring
 * every file (each entry written to the list file before its open is answered), without and with an
 * fsync per write. Pass 1 is cold
 * (each file seen for the first time), pass 2 warm (files already judged: the kernel's ignore marks
 * answer where a listener set them). Configurations and filesystems are interleaved round by round; the
 * medians are printed as opens per second and as ratios to the no-listener baseline of the same run.
 *
 * <p>Before each measurement the listener gets {@code --prime} other files, untimed: "cold" is a file the
 * listener has not seen, not a listener that has not run (a fresh JVM compiles its decision path during
 * its first thousands of events, which the start benchmark measures).
 *
 * <p>Then, in the same table, a real program's start in containers of one image ({@link StartBenchmark},
 * {@code --start-rounds} rounds, 0 for none): the times in ms and their ratios, on the rows of no
 * listener, the C listener that hashes every file, and imans appraising every file (a fresh daemon), and
 * on a row of its own for a daemon warmed on another image.
 *
 * <p>Usage (as root): {@code OpenBenchmark [--files N] [--size BYTES] [--rounds R] [--prime N] [--fs ...]
 * [--configs ...] [--start-rounds R]}; defaults 20000, 4096, 3, 20000, every filesystem and
 * configuration, 5. The opener ({@code bench/native/openloop.c}) times itself inside its loop.
 */
public final class OpenBenchmark {
    /** tmpfs, ext4 and overlay. */
    private static final String POLICY = """
            appraise fsmagic=0x01021994
            appraise fsmagic=0xEF53
            appraise fsmagic=0x794C7630
            """;
    private static final String MEASURE_POLICY = POLICY.replace("appraise", "measure");

    private final int files;
    private final int size;
    private final int rounds;
    /** Files opened, untimed, before each measurement: the listener's code paths are compiled by then. */
    private final int prime;
    private final Set<Fs> filesystems;
    private final Set<Config> configs;

    OpenBenchmark(int files, int size, int rounds) {
        this(files, size, rounds, 0, EnumSet.allOf(Fs.class), EnumSet.allOf(Config.class));
    }

    OpenBenchmark(int files, int size, int rounds, int prime, Set<Fs> filesystems, Set<Config> configs) {
        this.files = files;
        this.size = size;
        this.rounds = rounds;
        this.prime = prime;
        this.filesystems = EnumSet.copyOf(filesystems);
        this.configs = EnumSet.copyOf(configs);
        this.configs.add(Config.NO_LISTENER);
    }

    static String fileName(int i) {
        return String.format("f%06d", i);
    }

    public static void main(String[] args) throws Exception {
        int files = 20_000;
        int size = 4096;
        int rounds = 3;
        int prime = 20_000;
        Set<Fs> filesystems = EnumSet.allOf(Fs.class);
        Set<Config> configs = EnumSet.allOf(Config.class);
        int startRounds = 5;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--files" -> files = Integer.parseInt(args[i + 1]);
                case "--size" -> size = Integer.parseInt(args[i + 1]);
                case "--rounds" -> rounds = Integer.parseInt(args[i + 1]);
                case "--prime" -> prime = Integer.parseInt(args[i + 1]);
                case "--fs" -> filesystems = names(Fs.class, args[i + 1]);
                case "--configs" -> configs = names(Config.class, args[i + 1]);
                case "--start-rounds" -> startRounds = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        var open = new OpenBenchmark(files, size, rounds, prime, filesystems, configs).run();
        StartBenchmark.Medians start = startRounds > 0 ? new StartBenchmark(startRounds, false).measure() : null;
        report(open, start);
    }

    /** A comma-separated list of constant names, in any case ({@code tmpfs}, {@code c_watch,appraise}). */
    private static <E extends Enum<E>> Set<E> names(Class<E> type, String list) {
        Set<E> set = EnumSet.noneOf(type);
        for (String n : list.split(",")) {
            set.add(Enum.valueOf(type, n.trim().toUpperCase(java.util.Locale.ROOT)));
        }
        return set;
    }

    enum Config {
        NO_LISTENER("no listener", null),
        C_ALLOW("C listener: allow every event at once", "allow"),
        C_SHA256("C listener: SHA-256 of every file, then allow", "sha256"),
        C_IGNORE("C listener: allow + inode ignore mark", "ignore"),
        C_WATCH("C listener: allow + ignore mark + open watch (imans's design)", "watch"),
        NO_POLICY("imans, no policy for the namespace", null),
        APPRAISE("imans appraising every file", null),
        APPRAISE_ALL_FS("imans appraising every file, every tmpfs and ext4 marked", null),
        MEASURE("imans measuring every file (each entry on file before its answer)", null),
        MEASURE_FSYNC("imans measuring every file, --measurements-fsync", null);

        final String text;
        /** The native listener's mode, null when no native listener runs. */
        final String listenerMode;

        Config(String text, String listenerMode) {
            this.text = text;
            this.listenerMode = listenerMode;
        }

        String policy() {
            return switch (this) {
                case APPRAISE, APPRAISE_ALL_FS -> POLICY;
                case MEASURE, MEASURE_FSYNC -> MEASURE_POLICY;
                default -> null;
            };
        }
    }

    /**
     * Runs every round and prints the tables; per filesystem and configuration, each round's two passes
     * in opens/s, then the opener's CPU ns per open in each pass.
     */
    Map<Fs, Map<Config, List<double[]>>> run() throws Exception {
        NativeTools tools = NativeTools.build();
        openLoopBinary = tools.openLoop();
        try (BenchNamespace ns = new BenchNamespace(tools.openLoop())) {
            label(ns, ns.hostPath("/bin/openloop"), Files.readAllBytes(tools.openLoop()));
            Random random = new Random(42);
            byte[] content = new byte[size];
            for (Fs fs : filesystems) {
                if (fs.onHost()) {
                    mountHostTmpfs();
                }
                Path dir = ns.hostLayerPath(fs);
                for (int i = 0; i < files; i++) {
                    random.nextBytes(content);
                    label(ns, Files.write(dir.resolve(fileName(i)), content), content);
                }
                Path primeDir = Files.createDirectories(dir.resolve(PRIME_DIR));
                for (int i = 0; i < prime; i++) {
                    random.nextBytes(content);
                    label(ns, Files.write(primeDir.resolve(fileName(i)), content), content);
                }
            }
            System.out.printf("%d files of %d bytes on each of %s, mount namespace %d; %d rounds; each listener first"
                    + " opens %d other files, untimed%n", files, size, filesystems.stream().map(f -> f.text).toList(),
                    ns.nsid, rounds, prime);
            Map<Fs, Map<Config, List<double[]>>> results = new EnumMap<>(Fs.class);
            for (Fs fs : filesystems) {
                Map<Config, List<double[]>> byConfig = new EnumMap<>(Config.class);
                for (Config c : configs) {
                    byConfig.put(c, new ArrayList<>());
                }
                results.put(fs, byConfig);
            }
            for (int round = 1; round <= rounds; round++) {
                for (Fs fs : filesystems) {
                    for (Config c : configs) {
                        double[] r = measure(c, fs, ns, tools);
                        results.get(fs).get(c).add(r);
                        System.out.printf("round %d  %-11s %-48s pass 1 %8.0f  pass 2 %8.0f opens/s"
                                + "  (opener CPU %5.0f / %5.0f ns per open)%n", round, fs.text, c.text, r[0], r[1], r[2],
                                r[3]);
                    }
                }
            }
            return results;
        }
    }

    private static void mountHostTmpfs() throws IOException, InterruptedException {
        Files.createDirectories(Path.of(BenchNamespace.HOST_DIR));
        run("mount", "-t", "tmpfs", "-o", "size=1g", "imans-bench-host", BenchNamespace.HOST_DIR);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                run("umount", "-l", BenchNamespace.HOST_DIR);
                Files.deleteIfExists(Path.of(BenchNamespace.HOST_DIR));
            } catch (IOException | InterruptedException e) {
                // Best effort at exit.
            }
        }));
    }

    private static void run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).inheritIO().start();
        if (p.waitFor() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed");
        }
    }

    private static void label(BenchNamespace ns, Path f, byte[] content) throws Exception {
        byte[] digest = HashAlgo.SHA256.newDigest().digest(content);
        byte[] label = new byte[2 + digest.length];
        label[0] = 0x04;
        label[1] = 0x04;
        System.arraycopy(digest, 0, label, 2, digest.length);
        Xattr.set(f, Xattr.SECURITY_IMA, label);
    }

    private double[] measure(Config c, Fs fs, BenchNamespace ns, NativeTools tools) throws Exception {
        if (c.listenerMode != null) {
            return withListener(c.listenerMode, fs, ns, tools);
        }
        if (c == Config.NO_LISTENER) {
            return openLoop(fs, ns, () -> 0);
        }
        Path base = Path.of("/run/imans-bench-" + UUID.randomUUID());
        DaemonConfig config = new DaemonConfig(base.resolve("ima"), false, base.resolve("state"),
                Optional.of(base.resolve("audit.log")), AppraiseSetting.ENFORCE)
                // As recommended for containers: only the filesystems a registered namespace's policy can
                // reach are marked; APPRAISE_ALL_FS marks every one of these types, the host's too.
                .withEnforcement(EnforcementConfig.defaults().withFilesystems(Set.of("tmpfs", "ext4"),
                        c != Config.APPRAISE_ALL_FS))
                .withMeasurementsFsync(c == Config.MEASURE_FSYNC);
        Daemon daemon = Daemon.start(config);
        try {
            // A daemon starts before the containers it judges: its start's warm-up is over by then.
            daemon.enforcement().orElseThrow().awaitWarmup();
            Files.writeString(config.control().resolve("namespaces"), ns.nsid + "\n");
            if (c.policy() != null) {
                Files.writeString(config.control().resolve(ns.nsid + "/policy"), c.policy());
            }
            EngineMetrics engine = daemon.enforcement().orElseThrow().engine().metrics();
            double[] r = openLoop(fs, ns, engine::events);
            EnforcementMetrics m = daemon.enforcement().orElseThrow().metrics();
            // Pass 2 should raise none: every file was ignore-marked in pass 1.
            System.out.printf("         (permission events: pass 1 %d, pass 2 %d; modifications %d; %s)%n",
                    eventsAtPass1 - eventsBeforePass1, engine.events() - eventsAtPass1, engine.modifications(), m);
            EngineMetrics overlays = daemon.enforcement().orElseThrow().overlayEngine().metrics();
            System.out.printf("         (read to answer, priming included: %s)%n", fs == Fs.OVERLAY
                    ? "filesystems " + meanAnswer(engine) + ", overlays " + meanAnswer(overlays) : meanAnswer(engine));
            if (fs == Fs.OVERLAY) {
                System.out.printf("         (filesystems engine %s; overlays engine %s)%n", engine.snapshot(),
                        overlays.snapshot());
            }
            return r;
        } finally {
            daemon.close();
            BenchNamespace.deleteTree(base);
        }
    }

    /** An engine's mean time from reading an event to answering it, and over how many answers. */
    private static String meanAnswer(EngineMetrics m) {
        EngineMetrics.Histogram h = m.latencyHistogram();
        return String.format("mean %.1f us over %d answers", h.sum() / Math.max(1, h.count()) * 1e6, h.count());
    }

    /** A fresh native listener on the filesystem for each measurement, so its ignore marks start empty. */
    private double[] withListener(String mode, Fs fs, BenchNamespace ns, NativeTools tools) throws Exception {
        Process listener = new ProcessBuilder(tools.listener().toString(), mode, ns.hostPath(fs).toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try {
            String line = new BufferedReader(new InputStreamReader(listener.getInputStream(), StandardCharsets.UTF_8))
                    .readLine();
            if (!"ready".equals(line)) {
                throw new IOException("the " + mode + " listener did not start");
            }
            return openLoop(fs, ns, () -> 0);
        } finally {
            listener.destroy();
            listener.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** Beside each filesystem's files: those opened before the timed passes. */
    private static final String PRIME_DIR = "prime";

    /** The C opener, run directly for {@link Fs#HOST}. */
    private Path openLoopBinary;

    /** The events count of the daemon when the timed passes start. */
    private long eventsBeforePass1;

    /** Set when the opener reports pass 1: the events count of the daemon then. */
    private long eventsAtPass1;

    /**
     * Opens the priming files once, untimed: a listener's first thousands of events would otherwise
     * measure its start (a fresh JVM compiling its code on one of the two cores) rather than its cost
     * per cold file, which is what a daemon that has served a while pays.
     */
    private void primeOnce(Fs fs, BenchNamespace ns) throws Exception {
        if (prime == 0) {
            return;
        }
        Process p = new ProcessBuilder(opener(fs, ns, fs.dir + "/" + PRIME_DIR, prime, 1)).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IOException("priming opener failed");
        }
        // The compiler threads finish what the priming queued before the timed passes start.
        Thread.sleep(2000);
    }

    private List<String> opener(Fs fs, BenchNamespace ns, String dir, int count, int passes) {
        return fs.onHost()
                ? List.of(openLoopBinary.toString(), dir, Integer.toString(count), Integer.toString(passes))
                : List.of("nsenter", "-t", Long.toString(ns.pid()), "-m", "/bin/openloop", dir,
                        Integer.toString(count), Integer.toString(passes));
    }

    private double[] openLoop(Fs fs, BenchNamespace ns, LongSupplier events) throws Exception {
        primeOnce(fs, ns);
        eventsBeforePass1 = events.getAsLong();
        List<String> opener = opener(fs, ns, fs.dir, files, 2);
        Process p = new ProcessBuilder(opener)
                .redirectErrorStream(true).start();
        double[] r = new double[4];
        try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                String[] f = line.split(" ");
                if (f.length == 5 && f[0].equals("pass")) {
                    r[Integer.parseInt(f[1]) - 1] = Double.parseDouble(f[2]);
                    r[Integer.parseInt(f[1]) + 1] = Double.parseDouble(f[4]);
                    if (f[1].equals("1")) {
                        eventsAtPass1 = events.getAsLong();
                    }
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

    /** Where the start benchmark's judges go in the table: the open benchmark's rows that are the same setup. */
    private static final Map<Config, StartBenchmark.Judge> START_ROWS = Map.of(Config.NO_LISTENER,
            StartBenchmark.Judge.NONE, Config.C_SHA256, StartBenchmark.Judge.C_SHA256, Config.APPRAISE,
            StartBenchmark.Judge.IMANS_FRESH);

    /** The tables; {@code start} null when the start benchmark did not run. */
    static void report(Map<Fs, Map<Config, List<double[]>>> results, StartBenchmark.Medians start) {
        System.out.println();
        StringBuilder head = new StringBuilder("| configuration |");
        StringBuilder rule = new StringBuilder("|---|");
        for (Fs fs : results.keySet()) {
            head.append(" ").append(fs.text).append(" cold opens/s | ratio | ").append(fs.text)
                    .append(" warm opens/s | ratio |");
            rule.append("---|---|---|---|");
        }
        if (start != null) {
            for (StartBenchmark.Start s : StartBenchmark.Start.values()) {
                head.append(" start of ").append(s.text).append(" (ms) | ratio |");
                rule.append("---|---|");
            }
        }
        System.out.println(head);
        System.out.println(rule);
        Set<Config> rows = EnumSet.copyOf(results.values().iterator().next().keySet());
        if (start != null) {
            rows.addAll(START_ROWS.keySet());
        }
        for (Config c : rows) {
            StringBuilder row = new StringBuilder("| ").append(c.text).append(" |");
            for (Map<Config, List<double[]>> byConfig : results.values()) {
                for (int pass = 0; pass < 2; pass++) {
                    if (!byConfig.containsKey(c)) {
                        row.append(" — | — |");
                        continue;
                    }
                    double v = median(byConfig.get(c), pass);
                    double base = median(byConfig.get(Config.NO_LISTENER), pass);
                    row.append(String.format(" %.0f | %.2f |", v, v / base));
                }
            }
            if (start != null) {
                startCells(row, start, START_ROWS.get(c));
            }
            System.out.println(row);
        }
        if (start != null) {
            StringBuilder row = new StringBuilder("| imans appraising every file, daemon warmed on another image |");
            row.append(" — | — | — | — |".repeat(results.size()));
            startCells(row, start, StartBenchmark.Judge.IMANS_WARMED);
            System.out.println(row);
        }
        // CPU time the opener spends per open, listener work in its own context included: steadier than
        // throughput on a machine shared with other jobs, as it leaves out time spent waiting.
        System.out.println();
        StringBuilder cpuHead = new StringBuilder("| opener CPU ns per open |");
        for (Fs fs : results.keySet()) {
            cpuHead.append(" ").append(fs.text).append(" cold | ").append(fs.text).append(" warm |");
        }
        System.out.println(cpuHead);
        System.out.println("|---|" + "---|---|".repeat(results.size()));
        for (Config c : results.values().iterator().next().keySet()) {
            StringBuilder row = new StringBuilder("| ").append(c.text).append(" |");
            for (Map<Config, List<double[]>> byConfig : results.values()) {
                row.append(String.format(" %.0f | %.0f |", median(byConfig.get(c), 2), median(byConfig.get(c), 3)));
            }
            System.out.println(row);
        }
    }

    private static void startCells(StringBuilder row, StartBenchmark.Medians start, StartBenchmark.Judge judge) {
        for (StartBenchmark.Start s : StartBenchmark.Start.values()) {
            if (judge == null) {
                row.append(" — | — |");
            } else {
                row.append(String.format(" %.0f | %.2f |", start.of(judge, s), start.ratio(judge, s)));
            }
        }
    }

    private static double median(List<double[]> runs, int pass) {
        double[] v = runs.stream().mapToDouble(r -> r[pass]).sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }
}
