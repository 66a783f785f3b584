package dev.imans.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** The top-level {@code imans} command; every subcommand is registered here and only here. */
@Command(name = "imans",
        mixinStandardHelpOptions = true,
        versionProvider = Version.class,
        description = "Namespace-aware IMA for Linux containers.",
        subcommands = {DaemonCommand.class, NsCommand.class, PolicyCommand.class, HashCommand.class,
                SignCommand.class, VerifyCommand.class, XattrCommand.class, MeasurementsCommand.class,
                OciHookCommand.class, StatusCommand.class, CheckCommand.class, KeylimePolicyCommand.class,
                GenerateManCommand.class, picocli.AutoComplete.GenerateCompletion.class})
public final class ImansCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "missing command");
    }
}
