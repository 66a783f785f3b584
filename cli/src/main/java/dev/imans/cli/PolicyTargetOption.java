package dev.imans.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --ns NSID}: a namespace's policy file instead of the host's. */
final class PolicyTargetOption {
    @Option(names = "--ns", paramLabel = "NSID",
            description = "A registered namespace's policy (DIR/NSID/policy) instead of the host's (DIR/policy).")
    Long nsid;

    Path policyFile(Path controlDir) {
        return NamespaceControl.policyFile(controlDir, nsid);
    }

    String what() {
        return NamespaceControl.policyName(nsid);
    }
}
