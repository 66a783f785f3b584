package dev.imans.cli;

import java.io.IOException;
import java.io.PrintWriter;
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
            Path dir = control.running();
            byte[] rules;
            try {
                rules = Files.readAllBytes(file);
            } catch (IOException e) {
                throw new ControlException("cannot read " + file + ": " + e.getMessage());
            }
            Path policy = target.policyFile(dir);
            try {
                ControlFiles.write(policy, rules);
            } catch (ControlFiles.ControlIoException e) {
                throw new ControlException(switch (e.failure) {
                    case EINVAL -> "the daemon rejected " + file + " (" + reason(dir) + "); " + target.what()
                            + " is unchanged";
                    case EBUSY -> policy + " is open by another writer; try again";
                    case EPERM -> "loading a policy needs CAP_SYS_ADMIN in the initial user namespace";
                    case ENOENT -> target.nsid == null ? "cannot open " + policy
                            : "namespace " + target.nsid + " is not registered (imans ns add)";
                    default -> "cannot write " + policy + ": " + e.getMessage();
                });
            }
            spec.commandLine().getOut().println("loaded " + file + " into " + target.what());
            return 0;
        } catch (ControlException e) {
            err.println("imans policy load: " + e.getMessage());
            return 1;
        }
    }

    /** The daemon's reason from {@code .imans/last_error}, without its time stamp and target. */
    private static String reason(Path dir) {
        try {
            String last = ControlFiles.read(dir.resolve(".imans").resolve("last_error")).strip();
            int colon = last.indexOf(": ");
            return last.isEmpty() ? "see the daemon's log" : colon > 0 ? last.substring(colon + 2) : last;
        } catch (ControlFiles.ControlIoException e) {
            return "see the daemon's log";
        }
    }
}
