package dev.imans.daemon.fanotify;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

/** Runs real programs with a bounded wait, so a bug in the engine fails a test instead of hanging CI. */
final class Sh {
    record Result(int exit, String output) {}

    private Sh() {}

    static Result run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        return await(p, cmd);
    }

    static Result await(Process p, String... cmd) throws IOException, InterruptedException {
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("timed out (an open was never answered?): " + String.join(" ", cmd));
        }
        return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes()));
    }

    static Process start(String... cmd) throws IOException {
        return new ProcessBuilder(cmd).redirectErrorStream(true).start();
    }

    static void ok(String... cmd) throws IOException, InterruptedException {
        Result r = run(cmd);
        if (r.exit() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed (" + r.exit() + "): " + r.output());
        }
    }
}
