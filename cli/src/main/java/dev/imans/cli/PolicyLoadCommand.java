package dev.imans.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code imans policy load [--ns NSID] FILE}: appends FILE's rules to a policy, as
 * {@code cat FILE > ima/policy} does, and says why when the daemon rejects them.
 */
@Command(name = "load", mixinStandardHelpOptions = true,
        description = {"Append the rules of FILE to the host policy or a namespace's, through the daemon's",
            "control files. One bad rule rejects the whole file and the policy in force stays as it was."})
public final class PolicyLoadCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ControlDir control;

    @Mixin
    PolicyTargetOption target;

    @Parameters(paramLabel = "FILE", description = "Policy rules, one per line, in the kernel's language.")
    Path file;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        try {
            byte[] rules;
            try {
                rules = Files.readAllBytes(file);
            } catch (IOException e) {
                throw new ControlException("cannot read " + file + ": " + ListFile.reason(e));
            }
            Path dir = control.running();
            if (!holdsRule(rules)) {
                // The kernel drops an update with no rules without telling the writer (ima_check_policy).
                throw new ControlException(file + " holds no rules (only blank and comment lines); nothing loaded");
            }
            NamespaceControl.appendPolicy(dir, target.nsid, file.toString(), rules);
            spec.commandLine().getOut().println("loaded " + file + " into " + target.what());
            return 0;
        } catch (ControlException e) {
            err.println("imans policy load: " + e.getMessage());
            return 1;
        }
    }

    /** Whether some line is a rule: the kernel skips blank lines and lines starting with '#'. */
    static boolean holdsRule(byte[] rules) {
        return new String(rules, StandardCharsets.UTF_8).lines().map(String::strip)
                .anyMatch(l -> !l.isEmpty() && !l.startsWith("#"));
    }
}
