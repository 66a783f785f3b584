package dev.imans.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code imans status}: the daemon's health from {@code .imans/health}. Exit status 0 when it is ok, 3
 * when some state is degraded (so scripts and monitoring can test it), 1 when no daemon answers.
 */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = {"Show whether the daemon is healthy: 'ok', or one line per degraded state (since when,",
            "and why). Exit status 0 when ok, 3 when degraded, 1 when no daemon serves the control directory."})
public final class StatusCommand implements Callable<Integer> {
    static final int DEGRADED = 3;

    @Spec
    CommandSpec spec;

    @Mixin
    ControlDir control;

    @Override
    public Integer call() {
        try {
            Path dir = control.running();
            String health = ControlFiles.read(dir.resolve(".imans").resolve("health"));
            PrintWriter out = spec.commandLine().getOut();
            out.print(health);
            out.flush();
            return health.strip().equals("ok") ? 0 : DEGRADED;
        } catch (ControlException | ControlFiles.ControlIoException e) {
            spec.commandLine().getErr().println("imans status: " + e.getMessage());
            return 1;
        }
    }
}
