package dev.imans.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code imans policy show [--ns NSID]}: the policy in force, as the kernel prints it. */
@Command(name = "show", mixinStandardHelpOptions = true,
        description = "Print the host policy or a namespace's as the daemon holds it (the kernel's read-back text).")
public final class PolicyShowCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ControlDir control;

    @Mixin
    PolicyTargetOption target;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        try {
            Path dir = control.running();
            Path policy = target.policyFile(dir);
            String text;
            try {
                text = ControlFiles.read(policy);
            } catch (ControlFiles.ControlIoException e) {
                throw new ControlException(switch (e.failure) {
                    case ENOENT -> target.nsid == null ? "cannot open " + policy
                            : "namespace " + target.nsid + " is not registered (imans ns add)";
                    case EPERM, EACCES -> "reading a policy needs CAP_SYS_ADMIN in the initial user namespace";
                    default -> "cannot read " + policy + ": " + e.getMessage();
                });
            }
            PrintWriter out = spec.commandLine().getOut();
            out.print(text);
            out.flush();
            return 0;
        } catch (ControlException e) {
            err.println("imans policy show: " + e.getMessage());
            return 1;
        }
    }
}
