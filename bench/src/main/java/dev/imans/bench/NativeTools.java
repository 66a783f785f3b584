package dev.imans.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The benchmark's C programs ({@code bench/native}), built with {@code cc} when their binary is older
 * than their source: the opener ({@code openloop}, static, as it runs in a namespace that holds only
 * the benchmark's filesystems) and the native anchor listeners ({@code listener}, OpenSSL for SHA-256).
 *
 * @param openLoop the opener binary
 * @param listener the listener binary
 */
record NativeTools(Path openLoop, Path listener) {
    /** Where the sources are: {@code -Dimans.bench.native}, else {@code native} (the module's directory). */
    static Path sourceDir() {
        return Path.of(System.getProperty("imans.bench.native", "native")).toAbsolutePath();
    }

    /** Builds what is outdated into {@code target/native} beside the sources. */
    static NativeTools build() throws IOException, InterruptedException {
        Path src = sourceDir();
        Path out = src.resolveSibling("target").resolve("native");
        Files.createDirectories(out);
        return new NativeTools(
                compile(src.resolve("openloop.c"), out.resolve("openloop"), List.of("-static")),
                compile(src.resolve("listener.c"), out.resolve("listener"), List.of("-lcrypto", "-pthread")));
    }

    private static Path compile(Path source, Path binary, List<String> flags) throws IOException, InterruptedException {
        if (Files.exists(binary) && Files.getLastModifiedTime(binary).compareTo(Files.getLastModifiedTime(source)) > 0) {
            return binary;
        }
        List<String> cmd = new ArrayList<>(List.of("cc", "-O2", "-Wall", "-o", binary.toString(), source.toString()));
        cmd.addAll(flags);
        Process p = new ProcessBuilder(cmd).inheritIO().start();
        if (p.waitFor() != 0) {
            throw new IOException("cc failed for " + source);
        }
        return binary;
    }
}
