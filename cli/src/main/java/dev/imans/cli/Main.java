package dev.imans.cli;

import picocli.CommandLine;

/** Entry point of the {@code imans} command. */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs one command line and returns its exit code; tests call this instead of {@link #main}. */
    public static int run(String... args) {
        return new CommandLine(new ImansCommand())
                .setCaseInsensitiveEnumValuesAllowed(true)
                .execute(args);
    }
}
