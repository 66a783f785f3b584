package dev.imans.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code imans ns}: the mount namespaces the daemon keeps a policy for. */
@Command(name = "ns", mixinStandardHelpOptions = true,
        description = "Register and list IMA namespaces (mount namespaces with their own policy).",
        subcommands = {NsCommand.Add.class, NsCommand.List.class})
public final class NsCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "missing command: add or list");
    }

    /** {@code imans ns add PID|--self}: writes the mount namespace id of PID to {@code namespaces}. */
    @Command(name = "add", mixinStandardHelpOptions = true,
            description = {"Register the mount namespace of PID (or, with --self, this process's own) with the daemon,",
                "as 'echo $nsid > ima/namespaces' does. A live process must be in it."})
    static final class Add implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ControlDir control;

        @ArgGroup(exclusive = true, multiplicity = "1")
        Which which;

        static final class Which {
            @Parameters(paramLabel = "PID", description = "A process in the namespace to register.")
            Long pid;

            @picocli.CommandLine.Option(names = "--self", description = "The namespace imans itself runs in.")
            boolean self;
        }

        @Override
        public Integer call() {
            PrintWriter err = spec.commandLine().getErr();
            long pid = which.self ? ProcessHandle.current().pid() : which.pid;
            try {
                Path dir = control.running();
                String nsid = NamespaceControl.mountNamespace(pid);
                NamespaceControl.register(dir, nsid);
                spec.commandLine().getOut().println("registered mount namespace " + nsid + " (pid " + pid + ")");
                return 0;
            } catch (ControlException e) {
                err.println("imans ns add: " + e.getMessage());
                return 1;
            }
        }
    }

    /** {@code imans ns list}: the registrations, from {@code .imans/namespaces}. */
    @Command(name = "list", mixinStandardHelpOptions = true,
            description = {"List the host and every registered namespace: appraise mode, committed rules,",
                "live processes."})
    static final class List implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ControlDir control;

        @Override
        public Integer call() {
            try {
                Path dir = control.running();
                String status = ControlFiles.read(dir.resolve(".imans").resolve("namespaces"));
                PrintWriter out = spec.commandLine().getOut();
                String[] lines = status.split("\n");
                for (int i = 0; i < lines.length; i++) {
                    String[] f = (i == 0 ? lines[i].toUpperCase(java.util.Locale.ROOT) : lines[i]).split(" ");
                    if (f.length == 4) {
                        out.printf("%-12s %-10s %6s %10s%n", f[0], f[1], f[2], f[3]);
                    }
                }
                out.flush();
                return 0;
            } catch (ControlException | ControlFiles.ControlIoException e) {
                spec.commandLine().getErr().println("imans ns list: " + e.getMessage());
                return 1;
            }
        }
    }
}
