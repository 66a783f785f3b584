package dev.imans.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --ns NSID}: a namespace's policy file instead of the host's. */
final class PolicyTargetOption {
    @Option(names = "--ns", paramLabel = "NSID",
            description = "A registered namespace's policy (DIR/NSID/policy) instead of the host's (DIR/policy).")
    Long nsid;

    Path policyFile(Path controlDir) {
        return nsid == null ? controlDir.resolve("policy") : controlDir.resolve(Long.toString(nsid)).resolve("policy");
    }

    String what() {
        return nsid == null ? "the host policy" : "the policy of namespace " + nsid;
    }
}
