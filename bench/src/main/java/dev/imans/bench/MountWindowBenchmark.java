package dev.imans.bench;

import dev.imans.daemon.Daemon;
import dev.imans.daemon.DaemonConfig;
import dev.imans.daemon.enforce.EnforcementConfig;
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
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * How long a filesystem mounted inside a registered namespace goes unchecked: a process in the
 * namespace (policy {@code appraise fsmagic=0x01021994}) mounts a tmpfs, writes an unlabelled file on
 * it and opens it until the daemon refuses the open ({@link MountWindowLoop}). Reports the window from
 * mount(2)'s return to the first refused open (median, p90, p99, max) and how many mounts let at least
 * one open through unjudged.
 *
 * <p>Usage (as root): {@code MountWindowBenchmark [--mounts N] [--pause MS]}; defaults 200, 50.
 */
public final class MountWindowBenchmark {
    private MountWindowBenchmark() {}

    public static void main(String[] args) throws Exception {
        int mounts = 200;
        int pause = 50;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--mounts" -> mounts = Integer.parseInt(args[i + 1]);
                case "--pause" -> pause = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        String classpath = Arrays.stream(System.getProperty("java.class.path").split(":"))
                .map(e -> Path.of(e).toAbsolutePath().toString()).collect(Collectors.joining(":"));
        Path base = Path.of("/run/imans-bench-" + UUID.randomUUID());
        Path mountDir = Files.createTempDirectory(Path.of("/run"), "imans-window.");
        Process holder = new ProcessBuilder("unshare", "-m", "--propagation", "private", "sh", "-c",
                "readlink /proc/self/ns/mnt && exec sleep 86400").redirectErrorStream(true).start();
        DaemonConfig config = new DaemonConfig(base.resolve("ima"), false, base.resolve("state"),
                Optional.of(base.resolve("audit.log")), AppraiseSetting.ENFORCE)
                .withEnforcement(EnforcementConfig.defaults().withFilesystems(Set.of("tmpfs"), true));
        Daemon daemon = Daemon.start(config);
        try {
            String line = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8))
                    .readLine();
            long nsid = Long.parseLong(line.substring(5, line.length() - 1));
            Files.writeString(config.control().resolve("namespaces"), nsid + "\n");
            Path policy = config.control().resolve(nsid + "/policy");
            Files.writeString(policy, "appraise fsmagic=0x01021994\n");
            while (Files.readString(policy).isEmpty()) {
                Thread.sleep(1);
            }
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            Process p = new ProcessBuilder("nsenter", "-t", Long.toString(holder.pid()), "-m", java,
                    "-XX:+UseSerialGC", "-XX:-UsePerfData", "--enable-native-access=ALL-UNNAMED", "-cp", classpath,
                    MountWindowLoop.class.getName(), mountDir.toString(), Integer.toString(mounts),
                    Integer.toString(pause)).redirectErrorStream(true).start();
            List<Long> windows = new ArrayList<>();
            int slipped = 0;
            int never = 0;
            try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String l;
                while ((l = in.readLine()) != null) {
                    String[] f = l.split(" ");
                    if (f.length == 3 && f[0].equals("window")) {
                        long w = Long.parseLong(f[1]);
                        if (w < 0) {
                            never++;
                        } else {
                            windows.add(w);
                        }
                        if (!f[2].equals("0")) {
                            slipped++;
                        }
                    } else {
                        System.out.println("mounter: " + l);
                    }
                }
            }
            if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
                throw new IOException("mounter failed");
            }
            windows.sort(Comparator.naturalOrder());
            System.out.printf("mounts %d: window from mount(2) return to first refused open: median %.2f ms,"
                    + " p90 %.2f ms, p99 %.2f ms, max %.2f ms; %d mounts let an open through unjudged;"
                    + " %d never refused within 10 s%n", windows.size() + never, pct(windows, 50), pct(windows, 90),
                    pct(windows, 99), pct(windows, 100), slipped, never);
            System.out.printf("         (%s)%n", daemon.enforcement().orElseThrow().metrics());
        } finally {
            daemon.close();
            holder.destroyForcibly();
            holder.waitFor(10, TimeUnit.SECONDS);
            try (Stream<Path> s = Files.walk(base)) {
                for (Path x : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(x);
                }
            }
            // The mounter's directories are gone with its namespace, unless it stopped half-way.
            try (Stream<Path> s = Files.walk(mountDir)) {
                for (Path x : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(x);
                }
            }
        }
    }

    private static double pct(List<Long> sorted, int p) {
        if (sorted.isEmpty()) {
            return Double.NaN;
        }
        int i = Math.min(sorted.size() - 1, (int) Math.ceil(p / 100.0 * sorted.size()) - 1);
        return sorted.get(Math.max(0, i)) / 1e6;
    }
}
