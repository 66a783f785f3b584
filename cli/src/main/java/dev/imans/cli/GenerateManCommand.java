package dev.imans.cli;

import java.time.LocalDate;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code imans generate-man}: the manual page, for packagers ({@code imans generate-man > imans.1}). */
@Command(name = "generate-man", hidden = true, mixinStandardHelpOptions = true,
        description = "Print the imans(1) manual page (troff), generated from the command definitions.")
final class GenerateManCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().getOut().print(ManPage.render(spec.root().commandLine(), LocalDate.now().toString()));
        spec.commandLine().getOut().flush();
        return 0;
    }
}
