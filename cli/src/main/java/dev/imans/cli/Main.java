package dev.imans.cli;

import java.io.PrintWriter;
import picocli.CommandLine;

/** Entry point of the {@code imans} command. */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs one command line and returns its exit code; tests call this instead of {@link #main}. */
    public static int run(String... args) {
        return commandLine().execute(args);
    }

    /** Runs one command line writing to {@code out} and {@code err}, for tests that read the output. */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        CommandLine cl = commandLine();
        cl.setOut(out);
        cl.setErr(err);
        try {
            return cl.execute(args);
        } finally {
            out.flush();
            err.flush();
        }
    }

    private static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new ImansCommand());
        // Packagers' tools (like generate-man): not part of the everyday command list.
        cl.getSubcommands().get("generate-completion").getCommandSpec().usageMessage().hidden(true);
        return cl.setCaseInsensitiveEnumValuesAllowed(true)
                .setExecutionExceptionHandler((e, failed, parsed) -> {
                    if (e instanceof KeyOptions.KeyError k) {
                        failed.getErr().println(k.getMessage());
                        return 2;
                    }
                    throw e;
                });
    }
}
