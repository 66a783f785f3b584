package dev.imans.bench;

import dev.imans.crypto.HashAlgo;
import dev.imans.daemon.Daemon;
import dev.imans.daemon.DaemonConfig;
import dev.imans.daemon.enforce.EnforcementConfig;
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
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The start of a real program in a container, with and without imans: {@code python3} importing a few
 * hundred standard-library modules, from an image layer of labelled files (python3, its libraries and
 * its standard library, copied from the host) under an overlay root, as podman or containerd mount one.
 * The native anchor: a C listener that hashes every file the container opens (SHA-256 through the
 * event's descriptor) before allowing it, as a minimal fanotify appraiser would. Each round makes two
 * containers of the same image: the first starts the program twice (its first
 * start, every file cold, then a second one), then a second container starts it once (the same layer's
 * files through a new overlay). Without a daemon, and with a fresh daemon appraising every file opened
 * through the overlay ({@code appraise fsmagic=0x794c7630}) in each container's namespace, registered
 * with its policy before the program starts, as {@code imans oci-hook} does; and with a fresh daemon
 * first warmed up on another image of the same files, as a daemon that has run for a while is.
 *
 * <p>Usage (as root): {@code StartBenchmark [--rounds R] [--daemon process|embedded]}; default 5 rounds,
 * the daemon in a process of its own ({@code bin/imans daemon}), as it runs in production. {@code embedded}
 * runs it inside this JVM, for profiling it beside the harness; its "fresh" daemons are not fresh then:
 * each inherits the code the JIT compiler made for every earlier daemon of the run (a second container's
 * decisions averaged 40 to 70 us there, against 220 to 380 us in a daemon of its own, on the same day).
 * Times are wall-clock, from the start of
 * {@code nsenter ... chroot ... python3} to its exit, medians of the rounds.
 */
public final class StartBenchmark {
    private static final String POLICY = "appraise fsmagic=0x794c7630\n";

    /**
     * A shell function: {@code copy_libs IMAGE FILE...} copies into IMAGE the shared objects the FILEs
     * need (ldd), where IMAGE lacks them.
     */
    private static final String COPY_LIBS = """
            copy_libs() {
              L=$1; shift
              for f in "$@"; do ldd "$f" 2>/dev/null || true; done \
                | awk '$2 == "=>" && $3 ~ /^\\// {print $3} $1 ~ /^\\// {print $1}' | sort -u \
                | while read -r lib; do if [ -f "$lib" ] && [ ! -e "$L$lib" ]; then cp --parents -L "$lib" "$L"; fi; done
            }
            """;

    /** Copies the program, the shared objects it and its extension modules need, and its library. */
    private static final String IMAGE = COPY_LIBS + """
            set -e
            L=$0
            mkdir -p "$L/usr/bin" "$L/usr/lib" "$L/tmp" "$L/dev" "$L/proc"
            cp -L /usr/bin/python3 "$L/usr/bin/python3"
            cp -a /usr/lib/python3.11 "$L/usr/lib/"
            copy_libs "$L" /usr/bin/python3 /usr/lib/python3.11/lib-dynload/*.so
            """;

    /**
     * A container: a mount namespace whose /merged is an overlay of the image over a fresh tmpfs, with a
     * /proc (the JVM's launcher finds its libraries through /proc/self/exe).
     */
    private static final String CONTAINER = """
            set -e
            mp=$(mktemp -d /run/imans-bench-start-c.XXXXXX)
            mount -t tmpfs container "$mp"
            mkdir "$mp/upper" "$mp/work" "$mp/merged"
            mount -t overlay overlay -o "lowerdir=$0,upperdir=$mp/upper,workdir=$mp/work" "$mp/merged"
            mount -t proc proc "$mp/merged/proc"
            echo "$mp/merged"
            exec sleep 86400
            """;

    /** Prints the top-level standard-library modules that import cleanly, one per line. */
    private static final String PROBE = """
            import importlib, os, pkgutil, sys
            skip = {"antigravity", "this", "idlelib", "tkinter", "turtle", "turtledemo", "test", "lib2to3",
                    "ensurepip", "venv", "pydoc_data", "__phello__", "__hello__", "_pyrepl", "distutils", "xxlimited",
                    "xxlimited_35", "xxsubtype", "_xxsubinterpreters", "_xxtestfuzz", "_testcapi", "_testinternalcapi",
                    "_testbuffer", "_testimportmultiple", "_testmultiphase", "_ctypes_test", "_testclinic", "crypt",
                    "nis", "spwd", "ossaudiodev", "msilib", "telnetlib", "imghdr", "sndhdr", "cgi", "cgitb", "pipes",
                    "uu", "xdrlib", "nntplib", "chunk", "mailcap", "audioop", "aifc", "sunau"}
            ok = []
            for m in sorted({i.name for i in pkgutil.iter_modules([os.path.dirname(os.__file__),
                                                                   os.path.dirname(os.__file__) + "/lib-dynload"])}):
                if m in skip or m.startswith("test") or not m.isidentifier():
                    continue
                try:
                    importlib.import_module(m)
                    ok.append(m)
                except Exception:
                    pass
            print("\\n".join(ok))
            """;

    /** One start of one program (python3 importing the standard library, or a JVM): the table's rows. */
    enum Start {
        FIRST("python3, first start, container 1"),
        SECOND("python3, second start, container 1"),
        OTHER("python3, first start, container 2 (same image)"),
        JVM_FIRST("java -version, first start, container 1"),
        JVM_SECOND("java -version, second start, container 1"),
        JVM_OTHER("java -version, first start, container 2 (same image)");

        final String text;

        Start(String text) {
            this.text = text;
        }
    }

    private final int rounds;
    private final boolean embedded;
    private Path image;
    private Path layer;
    private Path other;
    private Path listener;
    private String imports;

    StartBenchmark(int rounds, boolean embedded) {
        this.rounds = rounds;
        this.embedded = embedded;
    }

    public static void main(String[] args) throws Exception {
        int rounds = 5;
        boolean embedded = false;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--rounds" -> rounds = Integer.parseInt(args[i + 1]);
                case "--daemon" -> embedded = switch (args[i + 1]) {
                    case "process" -> false;
                    case "embedded" -> true;
                    default -> throw new IllegalArgumentException("--daemon is process or embedded, not " + args[i + 1]);
                };
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        new StartBenchmark(rounds, embedded).run();
    }

    /** Who judged the starts: the columns of this benchmark's table, rows of bench/run.sh's. */
    enum Judge {
        NONE, C_SHA256, IMANS_FRESH, IMANS_WARMED
    }

    /** Median start times in ms, by judge and start. */
    record Medians(Map<Judge, Map<Start, Double>> ms) {
        double of(Judge j, Start s) {
            return ms.get(j).get(s);
        }

        double ratio(Judge j, Start s) {
            return of(j, s) / of(Judge.NONE, s);
        }
    }

    /** Runs every round and prints this benchmark's own table. */
    void run() throws Exception {
        Medians m = measure();
        System.out.println();
        System.out.println("| start (ms, median) | no listener | C listener: SHA-256 of every file | ratio"
                + " | imans, fresh daemon | ratio | imans, daemon warmed on another image | ratio |");
        System.out.println("|---|---|---|---|---|---|---|---|");
        for (Start s : Start.values()) {
            System.out.printf("| %s | %.0f | %.0f | %.2f | %.0f | %.2f | %.0f | %.2f |%n", s.text, m.of(Judge.NONE, s),
                    m.of(Judge.C_SHA256, s), m.ratio(Judge.C_SHA256, s), m.of(Judge.IMANS_FRESH, s),
                    m.ratio(Judge.IMANS_FRESH, s), m.of(Judge.IMANS_WARMED, s), m.ratio(Judge.IMANS_WARMED, s));
        }
    }

    /** Runs every round (each judge in turn within a round); the medians. */
    Medians measure() throws Exception {
        image = Files.createTempDirectory(Path.of("/run"), "imans-bench-start.");
        try {
            // Image storage on a filesystem of its own, with a UUID as ext4, xfs and tmpfs have (this machine's
            // root ext4 has none, and overlay files on a layer without one are not shared between containers).
            sh("mount -t tmpfs -o size=1g imans-bench-image \"$0\"", image.toString());
            layer = image.resolve("layer");
            sh(IMAGE, layer.toString());
            jre(layer);
            int labelled = labelTree(layer);
            // Another image of the same files (other inodes), for warming a daemon up on other files.
            other = image.resolve("other");
            sh("cp -a \"$0/layer\" \"$0/other\"", image.toString());
            List<String> modules = probe();
            imports = "import " + String.join(", ", modules);
            System.out.printf("image: python3 and its standard library, and a JVM (java.base), %d labelled files;"
                    + " python3 imports %d modules; %d rounds; the daemon %s%n", labelled, modules.size(), rounds,
                    embedded ? "inside the benchmark's JVM" : "in a process of its own (bin/imans daemon)");
            listener = NativeTools.build().listener();
            Map<Judge, Map<Start, List<Double>>> times = new EnumMap<>(Judge.class);
            for (Judge j : Judge.values()) {
                times.put(j, new EnumMap<>(Start.class));
                for (Start s : Start.values()) {
                    times.get(j).put(s, new ArrayList<>());
                }
            }
            for (int round = 1; round <= rounds; round++) {
                record(round, "no daemon", containers(null, false), times.get(Judge.NONE));
                record(round, "C SHA-256", containers(null, true), times.get(Judge.C_SHA256));
                record(round, "imans", withDaemon(false), times.get(Judge.IMANS_FRESH));
                record(round, "imans, warmed", withDaemon(true), times.get(Judge.IMANS_WARMED));
            }
            Map<Judge, Map<Start, Double>> medians = new EnumMap<>(Judge.class);
            times.forEach((j, byStart) -> {
                Map<Start, Double> m = new EnumMap<>(Start.class);
                byStart.forEach((s, v) -> m.put(s, median(v)));
                medians.put(j, m);
            });
            return new Medians(medians);
        } finally {
            sh("umount -l \"$0\" 2>/dev/null; rm -rf \"$0\"", image.toString());
        }
    }

    private static void record(int round, String what, Map<Start, Double> r, Map<Start, List<Double>> into) {
        StringBuilder line = new StringBuilder(String.format("round %d  %-14s", round, what));
        for (Start s : Start.values()) {
            into.get(s).add(r.get(s));
            line.append(String.format("  %s %6.0f ms", s.name().toLowerCase(java.util.Locale.ROOT), r.get(s)));
        }
        System.out.println(line);
    }

    /**
     * A fresh daemon, first warmed up if {@code warm} by two starts in a container of the other image
     * (its JIT compiler has then seen the decision path; none of this image's files is known).
     */
    private Map<Start, Double> withDaemon(boolean warm) throws Exception {
        return embedded ? withEmbeddedDaemon(warm) : withDaemonProcess(warm);
    }

    /** The daemon's options: as {@link #withEmbeddedDaemon}'s configuration. */
    private static final List<String> DAEMON_OPTIONS = List.of("--watch-fs", "tmpfs,overlay",
            "--namespace-filesystems-only");

    private Map<Start, Double> withDaemonProcess(boolean warm) throws Exception {
        Path base = Path.of("/run/imans-bench-" + UUID.randomUUID());
        try (DaemonProcess daemon = new DaemonProcess(base, DAEMON_OPTIONS)) {
            if (warm) {
                warmUp(daemon.control());
            }
            EngineMetrics.Histogram[] before = new EngineMetrics.Histogram[1];
            Map<Start, Double> r = containers(daemon.control(), false, () -> {
                try {
                    before[0] = daemon.latencies("overlays");
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            System.out.println("         (container 2's start: " + latencies(before[0], daemon.latencies("overlays"))
                    + ")");
            return r;
        } finally {
            BenchNamespace.deleteTree(base);
        }
    }

    /** Two starts of each program in a container of the other image. */
    private void warmUp(Path control) throws Exception {
        try (Container c = new Container(other, control, null)) {
            for (int i = 0; i < 2; i++) {
                c.start(python());
                c.start(JAVA);
            }
        }
    }

    private Map<Start, Double> withEmbeddedDaemon(boolean warm) throws Exception {
        Path base = Path.of("/run/imans-bench-" + UUID.randomUUID());
        DaemonConfig config = new DaemonConfig(base.resolve("ima"), false, base.resolve("state"),
                Optional.of(base.resolve("audit.log")), AppraiseSetting.ENFORCE)
                .withEnforcement(EnforcementConfig.defaults().withFilesystems(Set.of("tmpfs", "overlay"), true));
        Daemon daemon = Daemon.start(config);
        try {
            // A daemon starts before the containers it judges: its start's warm-up is over by then.
            daemon.enforcement().orElseThrow().awaitWarmup();
            if (warm) {
                warmUp(config.control());
            }
            EngineMetrics overlays = daemon.enforcement().orElseThrow().overlayEngine().metrics();
            EngineMetrics.Histogram[] before = new EngineMetrics.Histogram[1];
            long[] deferredBefore = new long[1];
            Map<Start, Double> r = containers(config.control(), false, () -> {
                before[0] = overlays.latencyHistogram();
                deferredBefore[0] = overlays.deferred();
            });
            System.out.println("         (container 2's start: " + latencies(before[0], overlays.latencyHistogram())
                    + ", " + (overlays.deferred() - deferredBefore[0]) + " on the workers)");
            EngineMetrics.Histogram h = overlays.latencyHistogram();
            System.out.printf("         (overlay permission events %d%s, %.0f us from read to answer on average; %s)%n",
                    overlays.events(), warm ? ", warm-up included" : "",
                    h.count() == 0 ? 0.0 : h.sum() / h.count() * 1e6,
                    daemon.enforcement().orElseThrow().metrics());
            return r;
        } finally {
            daemon.close();
            BenchNamespace.deleteTree(base);
        }
    }

    /**
     * Two containers of the image; with {@code control}, each registered with the policy before it starts;
     * with {@code hashing}, each judged by the native anchor that hashes every file it opens
     * (bench/native/listener.c, marking the container's overlay).
     */
    private Map<Start, Double> containers(Path control, boolean hashing) throws Exception {
        return containers(control, hashing, () -> {});
    }

    /** As {@link #containers(Path, boolean)}; {@code beforeSecond} runs just before the second container's start. */
    private Map<Start, Double> containers(Path control, boolean hashing, Runnable beforeSecond) throws Exception {
        Map<Start, Double> r = new EnumMap<>(Start.class);
        try (Container one = new Container(layer, control, hashing ? listener : null)) {
            r.put(Start.FIRST, one.start(python()));
            r.put(Start.SECOND, one.start(python()));
            r.put(Start.JVM_FIRST, one.start(JAVA));
            r.put(Start.JVM_SECOND, one.start(JAVA));
            try (Container two = new Container(layer, control, hashing ? listener : null)) {
                beforeSecond.run();
                r.put(Start.OTHER, two.start(python()));
                r.put(Start.JVM_OTHER, two.start(JAVA));
            }
        }
        return r;
    }

    /** The JVM's start: the runtime made by {@link #jre}, its class-data archive as a JDK ships it. */
    private static final List<String> JAVA = List.of("/opt/jre/bin/java", "-Xshare:auto", "-version");

    private List<String> python() {
        return List.of("/usr/bin/python3", "-B", "-c", imports);
    }

    /**
     * A JVM in the image: this JDK's {@code jlink} makes a runtime of {@code java.base} (with its class-data
     * archive) in /opt/jre, and the shared objects it needs are copied as python3's are.
     */
    private static void jre(Path layer) throws IOException, InterruptedException {
        Path jlink = Path.of(System.getProperty("java.home"), "bin", "jlink");
        Process p = new ProcessBuilder(jlink.toString(), "--add-modules", "java.base", "--strip-debug", "--no-man-pages",
                "--no-header-files", "--generate-cds-archive", "--output", layer.resolve("opt/jre").toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IOException("jlink failed: " + out);
        }
        sh(COPY_LIBS + """
                set -e
                copy_libs "$0" $(find "$0/opt/jre" -type f \\( -name java -o -name '*.so' \\))
                """, layer.toString());
    }

    /** The answers between two snapshots of a latency histogram: how many, their mean, and how they spread. */
    static String latencies(EngineMetrics.Histogram from, EngineMetrics.Histogram to) {
        long n = to.count() - from.count();
        StringBuilder b = new StringBuilder(String.format("%d overlay events, %.0f us from read to answer on average",
                n, n == 0 ? 0.0 : (to.sum() - from.sum()) / n * 1e6));
        long prior = 0;
        StringBuilder spread = new StringBuilder();
        for (int i = 0; i < to.bounds().length && prior < n; i++) {
            long upTo = to.cumulative()[i] - from.cumulative()[i];
            if (upTo > prior) {
                spread.append(String.format("%s%d up to %.0f us", spread.isEmpty() ? "" : ", ", upTo - prior,
                        to.bounds()[i] * 1e6));
            }
            prior = upTo;
        }
        if (n > prior) {
            spread.append(", ").append(n - prior).append(" beyond");
        }
        return n == 0 ? b.toString() : b.append(" (").append(spread).append(")").toString();
    }

    /** Labels every regular file of the tree with its SHA-256 (evmctl ima_hash's value). */
    private static int labelTree(Path root) throws IOException {
        int n = 0;
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                byte[] digest = HashAlgo.SHA256.newDigest().digest(Files.readAllBytes(p));
                byte[] label = new byte[2 + digest.length];
                label[0] = 0x04;
                label[1] = 0x04;
                System.arraycopy(digest, 0, label, 2, digest.length);
                Xattr.set(p, Xattr.SECURITY_IMA, label);
                n++;
            }
        }
        return n;
    }

    private List<String> probe() throws IOException, InterruptedException {
        Process p = new ProcessBuilder("chroot", layer.toString(), "/usr/bin/python3", "-B", "-c", PROBE)
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IOException("python3 in the image failed to list its modules");
        }
        return out.lines().filter(l -> !l.isBlank()).toList();
    }

    private static void sh(String script, String arg) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("sh", "-c", script, arg).inheritIO().start();
        if (p.waitFor() != 0) {
            throw new IOException("sh failed: " + script.lines().findFirst().orElse(""));
        }
    }

    private static double median(List<Double> v) {
        double[] a = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
    }

    /** A container's mount namespace, kept by a sleeping member, registered with the daemon if one runs. */
    private static final class Container implements AutoCloseable {
        private final Process holder;
        private final String merged;
        private Process hashing;

        Container(Path layer, Path control, Path listener) throws IOException, InterruptedException {
            holder = new ProcessBuilder("unshare", "-m", "--propagation", "private", "sh", "-c", CONTAINER,
                    layer.toString()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            merged = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8))
                    .readLine();
            if (merged == null || !merged.startsWith("/")) {
                holder.destroyForcibly();
                throw new IOException("could not make a container: " + merged);
            }
            if (control != null) {
                String link = Files.readSymbolicLink(Path.of("/proc/" + holder.pid() + "/ns/mnt")).toString();
                String nsid = link.substring(5, link.length() - 1);
                Files.writeString(control.resolve("namespaces"), nsid + "\n");
                Files.writeString(control.resolve(nsid + "/policy"), POLICY);
            }
            if (listener != null) {
                hashing = new ProcessBuilder(listener.toString(), "sha256", "/proc/" + holder.pid() + "/root" + merged)
                        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
                String ready = new BufferedReader(new InputStreamReader(hashing.getInputStream(),
                        StandardCharsets.UTF_8)).readLine();
                if (!"ready".equals(ready)) {
                    close();
                    throw new IOException("the hashing listener did not start");
                }
            }
        }

        /** Runs {@code argv} in the container; its wall-clock time in ms. */
        double start(List<String> argv) throws IOException, InterruptedException {
            List<String> cmd = new ArrayList<>(List.of("nsenter", "-t", Long.toString(holder.pid()), "-m", "--", "chroot",
                    merged));
            cmd.addAll(argv);
            long t0 = System.nanoTime();
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(5, TimeUnit.MINUTES) || p.exitValue() != 0) {
                throw new IOException(argv.getFirst() + " failed in the container: " + out);
            }
            return (System.nanoTime() - t0) / 1e6;
        }

        @Override
        public void close() throws InterruptedException, IOException {
            if (hashing != null) {
                hashing.destroy();
                hashing.waitFor(10, TimeUnit.SECONDS);
            }
            holder.destroyForcibly();
            holder.waitFor(10, TimeUnit.SECONDS);
            // Its mounts went with the namespace; the directories were made on the host's /run.
            BenchNamespace.deleteTree(Path.of(merged).getParent());
        }
    }
}
