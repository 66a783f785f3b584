package dev.imans.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code imans measurements}: read, replay and verify IMA measurement lists. */
@Command(name = "measurements",
        mixinStandardHelpOptions = true,
        description = "Print and verify IMA measurement lists (binary_runtime_measurements).",
        subcommands = {MeasurementsPrintCommand.class, MeasurementsVerifyCommand.class, MeasurementsPcrsCommand.class,
                MeasurementsArchivedCommand.class})
public final class MeasurementsCommand implements Runnable {
    /** The list is valid and matches what was expected. */
    static final int EXIT_OK = 0;
    /** A template digest or PCR value does not match, or the list is malformed. */
    static final int EXIT_FAIL = 1;
    /** Bad usage, or a file could not be read. */
    static final int EXIT_USAGE = 2;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "missing command: print, verify, pcrs or archived");
    }
}
