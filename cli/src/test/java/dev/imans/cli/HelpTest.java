package dev.imans.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

/** Every command, at every depth, answers {@code --help} with its usage and exit code 0. */
class HelpTest {
    static Stream<List<String>> commands() {
        List<List<String>> all = new ArrayList<>();
        collect(new CommandLine(new ImansCommand()), List.of(), all);
        return all.stream();
    }

    private static void collect(CommandLine cl, List<String> path, List<List<String>> out) {
        out.add(path);
        for (var e : cl.getSubcommands().entrySet()) {
            List<String> sub = new ArrayList<>(path);
            sub.add(e.getKey());
            collect(e.getValue(), sub, out);
        }
    }

    @ParameterizedTest
    @MethodSource("commands")
    void helpPrintsUsageAndSucceeds(List<String> command) {
        List<String> args = new ArrayList<>(command);
        args.add("--help");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int rc = Main.run(new PrintWriter(out), new PrintWriter(err), args.toArray(String[]::new));
        assertThat(rc).as("imans %s --help: %s", String.join(" ", command), err).isZero();
        assertThat(out.toString()).startsWith("Usage: imans" + (command.isEmpty() ? "" : " " + String.join(" ", command)));
        assertThat(err.toString()).isEmpty();
    }
}
