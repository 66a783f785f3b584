package dev.imans.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The {@code --control DIR} option shared by every command that talks to a running daemon through
 * its control filesystem. Default: {@code $IMANS_CONTROL}, else {@code /run/imans/ima}.
 */
public final class ControlDir {
    static final String ENV = "IMANS_CONTROL";
    static final Path DEFAULT = Path.of("/run/imans/ima");

    @Option(names = "--control", paramLabel = "DIR",
            description = "The daemon's control directory (default: $IMANS_CONTROL, else /run/imans/ima).")
    Path control;

    /** The directory named on the command line or by the environment. */
    Path dir() {
        if (control != null) {
            return control;
        }
        String env = System.getenv(ENV);
        return env != null && !env.isEmpty() ? Path.of(env) : DEFAULT;
    }

    /**
     * The control directory of a running daemon.
     *
     * @throws ControlException naming the directory when no daemon serves it
     */
    Path running() throws ControlException {
        Path d = dir();
        if (!Files.exists(d.resolve("namespaces"))) {
            throw new ControlException("no imans daemon serves " + d + " (" + d.resolve("namespaces")
                    + " does not exist); start one with 'imans daemon --control " + d + "'");
        }
        return d;
    }
}
