package dev.imans.daemon.enforce;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs real programs with a bounded wait, so an unanswered open fails a test instead of hanging it. */
final class Run {
    record Result(int exit, String out, String err, long pid) {
        boolean ok() {
            return exit == 0;
        }
    }

    private Run() {}


    /** Runs {@code cmd} with a bound of {@code seconds}; its output goes through files, so it may be long. */
    static Result run(List<String> cmd, long seconds) throws IOException, InterruptedException {
        java.nio.file.Path out = java.nio.file.Files.createTempFile("imans-run", ".out");
        java.nio.file.Path err = java.nio.file.Files.createTempFile("imans-run", ".err");
        try {
            Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            p.getOutputStream().close();
            if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                throw new AssertionError("timed out (an open was never answered?): " + String.join(" ", cmd));
            }
            return new Result(p.exitValue(), java.nio.file.Files.readString(out, StandardCharsets.UTF_8),
                    java.nio.file.Files.readString(err, StandardCharsets.UTF_8), p.pid());
        } finally {
            java.nio.file.Files.deleteIfExists(out);
            java.nio.file.Files.deleteIfExists(err);
        }
    }

    static Result run(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).start();
        p.getOutputStream().close();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("timed out (an open was never answered?): " + String.join(" ", cmd));
        }
        return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8),
                new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8), p.pid());
    }

    static Result run(String... cmd) throws IOException, InterruptedException {
        return run(List.of(cmd));
    }

    static String ok(String... cmd) throws IOException, InterruptedException {
        Result r = run(cmd);
        if (!r.ok()) {
            throw new IOException(String.join(" ", cmd) + " failed (" + r.exit() + "): " + r.err() + r.out());
        }
        return r.out();
    }
}
