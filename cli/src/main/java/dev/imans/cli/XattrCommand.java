package dev.imans.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code imans xattr}: tools for {@code security.ima} values. */
@Command(name = "xattr", mixinStandardHelpOptions = true, description = "Inspect security.ima values.", subcommands = {XattrExplainCommand.class})
final class XattrCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "missing command (explain)");
    }
}
