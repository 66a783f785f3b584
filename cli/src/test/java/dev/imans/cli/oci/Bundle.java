package dev.imans.cli.oci;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * An OCI bundle with a busybox root filesystem ({@code /bin/busybox} from busybox-static), its
 * {@code config.json} made by {@code runc spec} and edited with {@code jq}.
 */
final class Bundle {
    final Path dir;

    private Bundle(Path dir) {
        this.dir = dir;
    }

    static Bundle create(Path dir) throws IOException, InterruptedException {
        Path rootfs = dir.resolve("rootfs");
        Files.createDirectories(rootfs.resolve("bin"));
        Files.copy(Path.of("/bin/busybox"), rootfs.resolve("bin/busybox"));
        for (String applet : List.of("sh", "cat", "sleep", "readlink", "echo")) {
            Files.createSymbolicLink(rootfs.resolve("bin").resolve(applet), Path.of("busybox"));
        }
        for (String d : List.of("proc", "sys", "dev", "tmp", "etc", "data")) {
            Files.createDirectories(rootfs.resolve(d));
        }
        Proc.run(dir, 30, "runc", "spec").requireSuccess("runc spec");
        return new Bundle(dir);
    }

    /** Applies a jq filter to {@code config.json}, with {@code --arg} pairs. */
    void edit(String filter, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("jq"));
        for (int i = 0; i + 1 < args.length; i += 2) {
            cmd.addAll(List.of("--arg", args[i], args[i + 1]));
        }
        cmd.addAll(List.of(filter, "config.json"));
        Proc r = Proc.run(dir, 30, cmd.toArray(String[]::new));
        r.requireSuccess("jq " + filter);
        Files.writeString(dir.resolve("config.json"), r.out());
    }

    /** A finished process: exit code and output (standard error merged in). */
    record Proc(int exit, String out) {
        static Proc run(Path cwd, long timeoutSeconds, String... cmd) throws IOException, InterruptedException {
            Path log = Files.createTempFile("imans-oci-proc", ".log");
            try {
                Process p = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(true)
                        .redirectOutput(log.toFile()).start();
                if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    p.waitFor(5, TimeUnit.SECONDS);
                    throw new IOException(String.join(" ", cmd) + " did not finish within " + timeoutSeconds + " s: "
                            + Files.readString(log));
                }
                return new Proc(p.exitValue(), Files.readString(log));
            } finally {
                Files.deleteIfExists(log);
            }
        }

        void requireSuccess(String what) throws IOException {
            if (exit != 0) {
                throw new IOException(what + " failed (exit " + exit + "): " + out);
            }
        }
    }
}
