package dev.imans.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code imans policy}: the group of policy subcommands. */
@Command(name = "policy",
        mixinStandardHelpOptions = true,
        description = "Work with IMA policies (the kernel's policy language).",
        subcommands = {PolicyCheckCommand.class, PolicyLoadCommand.class, PolicyShowCommand.class})
public final class PolicyCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "missing policy subcommand");
    }
}
