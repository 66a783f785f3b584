package dev.imans.cli;

import dev.imans.cli.oci.ContainerPolicy;
import dev.imans.cli.oci.HookException;
import dev.imans.cli.oci.JsonException;
import dev.imans.cli.oci.MemfdNoexec;
import dev.imans.cli.oci.OciState;
import dev.imans.cli.oci.KeySelection;
import dev.imans.cli.oci.PolicySelection;
import dev.imans.policy.Enforceability;
import dev.imans.policy.Policy;
import dev.imans.policy.PolicyError;
import dev.imans.policy.PolicyException;
import dev.imans.policy.PolicyParser;
import dev.imans.policy.PolicyWarning;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code imans oci-hook}: an OCI runtime hook for the {@code createRuntime} or {@code prestart}
 * stage. It reads the container's state from standard input, registers the mount namespace of the
 * container's process with the daemon and writes the container's policy there, before the
 * container runs its first instruction. Any failure exits 1 with the reason on standard error, so
 * the runtime refuses to start a container that would run without its policy. A state without a
 * pid ({@code poststop}) and a container without a policy are left alone (exit 0).
 */
@Command(name = "oci-hook", mixinStandardHelpOptions = true,
        description = {"Give a starting container its IMA policy (OCI hook: createRuntime, prestart).",
            "Reads the OCI state on standard input, registers the mount namespace of the",
            "container's process with the daemon and writes its policy: the annotation",
            PolicySelection.POLICY + " (the rules), else " + PolicySelection.POLICY_FILE + " (an absolute",
            "path or a name in --policy-dir), else --default-policy; with none, does nothing.",
            "The annotation " + KeySelection.KEYS + " names certificate files (absolute paths or names in",
            "--key-dir) whose keys verify signatures for that policy; they are added first.",
            "Options not on the command line come from the [oci-hook] section of the config file",
            "(default /etc/imans/imans.conf, read if it exists), --control also from the daemon's",
            "control setting there: runtimes run hooks with an empty environment.",
            "Exit 1 (the runtime then does not start the container) for a bad policy, no",
            "daemon, a bad config file, or a state it cannot use; exit 0 at poststop."})
public final class OciHookCommand implements Callable<Integer> {
    /** The OCI state is a few hundred bytes; this only bounds what a broken runtime could send. */
    static final int MAX_STATE_BYTES = 1 << 20;

    @Spec
    CommandSpec spec;

    @Mixin
    ControlDir control;

    @Option(names = "--policy-dir", paramLabel = "DIR",
            description = "Where names given by " + PolicySelection.POLICY_FILE + " are looked up (default: ${DEFAULT-VALUE}).")
    Path policyDir = PolicySelection.DEFAULT_POLICY_DIR;

    @Option(names = "--default-policy", paramLabel = "FILE",
            description = "The policy of containers whose annotations name none (default: none; such containers are left alone).")
    Path defaultPolicy;

    @Option(names = "--no-absolute-policy-files",
            description = "Refuse absolute paths in " + PolicySelection.POLICY_FILE + ": only names in --policy-dir.")
    boolean noAbsoluteFiles;

    @Option(names = "--key-dir", paramLabel = "DIR",
            description = "Where names given by " + KeySelection.KEYS + " are looked up (default: ${DEFAULT-VALUE}).")
    Path keyDir = KeySelection.DEFAULT_KEY_DIR;

    @Option(names = "--no-absolute-key-files",
            description = "Refuse absolute paths in " + KeySelection.KEYS + ": only names in --key-dir.")
    boolean noAbsoluteKeyFiles;

    /** When the hook sets {@code vm.memfd_noexec=2} in a container's pid namespace. */
    enum MemfdMode { auto, require, off }

    @Option(names = "--memfd-noexec", paramLabel = "MODE", arity = "0..1", fallbackValue = "require",
            description = {"Programs executed from a memfd are not seen by imans (docs/policy.md); the kernel's"
                    + " vm.memfd_noexec=2, set in the container's pid namespace, makes such execs fail instead.",
                    "auto (default): set it where the container's policy may appraise such execs and it can"
                    + " hold (a pid namespace of the container's own, no user namespace of its own); elsewhere"
                    + " print a note and start the container.",
                    "require (the option alone): set it where the policy may measure or appraise such execs,"
                    + " and refuse to start the container where it cannot hold.",
                    "off: never set it."})
    MemfdMode memfdNoexec = MemfdMode.auto;

    @Option(names = "--config", paramLabel = "FILE",
            description = "Read settings from the [oci-hook] section of FILE (default: /etc/imans/imans.conf if it"
                    + " exists; /dev/null reads none).")
    Path config;

    /** Set on the copy that already holds the config file's settings. */
    private boolean configApplied;

    @Option(names = "--state", paramLabel = "FILE",
            description = "Read the OCI state from FILE instead of standard input (for trying the hook by hand).")
    Path stateFile;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        if (!configApplied) {
            try {
                ConfigFile file = ConfigFile.read(config == null ? ConfigFile.DEFAULT : config, config != null)
                        .ociHook();
                List<String> fromFile = file.arguments(spec, spec.commandLine().getParseResult(),
                        ConfigFile.OCI_HOOK_COMMAND_LINE_ONLY);
                if (!fromFile.isEmpty()) {
                    return withConfig(file, fromFile);
                }
            } catch (ConfigFile.ConfigException e) {
                err.println("imans oci-hook: " + e.getMessage() + "; the container is not started");
                return 1;
            }
        }
        String container = "";
        try {
            OciState state = readState();
            container = "container " + state.id() + ": ";
            if (state.pid().isEmpty() || state.status().equals("stopped")) {
                if (state.status().equals("stopped")) {
                    return 0;
                }
                throw new HookException("the state (status \"" + state.status() + "\") has no pid; run the hook at"
                        + " createRuntime or prestart");
            }
            Optional<ContainerPolicy> chosen = new PolicySelection(policyDir, Optional.ofNullable(defaultPolicy),
                    !noAbsoluteFiles).select(state);
            List<KeySelection.KeyFile> keys = new KeySelection(keyDir, !noAbsoluteKeyFiles).select(state,
                    java.time.Instant.now());
            if (chosen.isEmpty() && keys.isEmpty()) {
                return 0;
            }
            Optional<Policy> policy = chosen.isEmpty() ? Optional.empty()
                    : Optional.of(check(chosen.get(), err, container));
            Path dir = control.running();
            long pid = state.pid().getAsLong();
            if (pid == 1) {
                // No container's process is the host's init: pid 1 is a pid inside the container.
                throw new HookException("pid 1 is the container's own pid, not a host pid: the hook runs inside the"
                        + " container (createContainer or startContainer stage); run it at createRuntime or prestart");
            }
            String nsid = NamespaceControl.mountNamespace(pid);
            if (nsid.equals(NamespaceControl.ownMountNamespace())) {
                throw new HookException("process " + pid + " is in the hook's own mount namespace: the hook runs"
                        + " inside the container (createContainer or startContainer stage); run it at createRuntime"
                        + " or prestart");
            }
            NamespaceControl.register(dir, nsid);
            // Keys before the policy: a policy in force without its keys would refuse the signed files.
            int certificates = 0;
            for (KeySelection.KeyFile k : keys) {
                NamespaceControl.addKeys(dir, Long.parseLong(nsid), k.path().toString(), k.bytes());
                certificates += k.certificates();
            }
            if (policy.isPresent() && !inForce(dir, nsid, policy.get(), chosen.get())) {
                NamespaceControl.appendPolicy(dir, Long.parseLong(nsid), chosen.get().origin(), chosen.get().bytes());
            }
            if (policy.isPresent()) {
                memfdNoexec(policy.get(), pid, err, container);
            }
            spec.commandLine().getOut().println("imans oci-hook: " + container + "mount namespace " + nsid
                    + " registered with " + policy.map(p -> p.rules().size() + " rule(s) from "
                            + chosen.get().origin()).orElse("no policy")
                    + (keys.isEmpty() ? "" : " and " + certificates + " key(s) from " + KeySelection.KEYS));
            return 0;
        } catch (HookException | ControlException e) {
            err.println("imans oci-hook: " + container + e.getMessage());
            return 1;
        }
    }

    /**
     * Where the kernel would appraise programs executed from memfds, refusing them all is the nearest
     * userspace can come; under a policy that cannot appraise them (measure only, or tmpfs excluded first)
     * it would refuse what the kernel runs, so {@code auto} leaves them alone.
     */
    private void memfdNoexec(Policy policy, long pid, PrintWriter err, String container) throws HookException {
        switch (memfdNoexec) {
            case off -> { }
            case require -> {
                if (!policy.gaps().isEmpty()) {
                    Optional<String> why = MemfdNoexec.whyItCannotHold(pid);
                    if (why.isPresent()) {
                        throw new HookException(why.get() + "; set it on the host instead");
                    }
                    MemfdNoexec.apply(pid);
                }
            }
            case auto -> {
                if (!Enforceability.mayAppraiseMemfdExec(policy)) {
                    return;
                }
                Optional<String> why = MemfdNoexec.whyItCannotHold(pid);
                if (why.isPresent()) {
                    err.println("imans oci-hook: " + container + "note: " + why.get() + ": programs executed from"
                            + " a memfd run unjudged in this container unless the host sets it (--memfd-noexec"
                            + " refuses to start such a container)");
                } else {
                    MemfdNoexec.apply(pid);
                }
            }
        }
    }

    /**
     * Runs a copy of this command on the config file's settings followed by the command line's, so
     * picocli converts and checks them as if typed (as {@code imans daemon} does with its settings).
     */
    private Integer withConfig(ConfigFile file, List<String> fromFile) {
        OciHookCommand copy = new OciHookCommand();
        java.util.Optional<String> refused = ConfigFile.parseInto(copy, spec, fromFile);
        if (refused.isPresent()) {
            spec.commandLine().getErr().println("imans oci-hook: " + file.path() + ": " + refused.get()
                    + "; the container is not started");
            return 1;
        }
        copy.configApplied = true;
        return copy.call();
    }

    private OciState readState() throws HookException {
        byte[] bytes;
        try (InputStream in = stateFile == null ? System.in : Files.newInputStream(stateFile)) {
            bytes = in.readNBytes(MAX_STATE_BYTES + 1);
        } catch (IOException e) {
            throw new HookException("cannot read the OCI state from " + stateName() + ": " + e.getMessage());
        }
        if (bytes.length > MAX_STATE_BYTES) {
            throw new HookException("the OCI state on " + stateName() + " is larger than " + MAX_STATE_BYTES + " bytes");
        }
        if (bytes.length == 0) {
            throw new HookException("no OCI state on " + stateName() + " (the runtime writes it there; is this run as"
                    + " a hook?)");
        }
        try {
            return OciState.parse(bytes);
        } catch (JsonException e) {
            throw new HookException("the OCI state on " + stateName() + " is not valid: " + e.getMessage());
        }
    }

    private String stateName() {
        return stateFile == null ? "standard input" : stateFile.toString();
    }

    /**
     * Checks the rules as the daemon will, so a bad policy stops the container before anything is
     * registered. Text is taken byte for byte (ISO-8859-1), as {@code policy check} and the kernel do.
     */
    private static Policy check(ContainerPolicy chosen, PrintWriter err, String container) throws HookException {
        Policy policy;
        try {
            policy = PolicyParser.parse(new String(chosen.bytes(), StandardCharsets.ISO_8859_1));
        } catch (PolicyException e) {
            for (PolicyError pe : e.errors()) {
                err.println("imans oci-hook: " + container + chosen.origin() + ": line " + pe.line() + ", column "
                        + pe.column() + ": " + pe.reason());
            }
            if (chosen.origin().startsWith("annotation") && !PolicyLoadCommand.holdsRule(chosen.bytes())) {
                // The likeliest cause: a multi-line value that podman cut down to its first (comment) line.
                err.println("imans oci-hook: " + container + "podman keeps only the first line of an annotation:"
                        + " separate rules with ';' or a literal \\n, or name a file with "
                        + PolicySelection.POLICY_FILE);
            }
            throw new HookException("invalid policy in " + chosen.origin() + "; the container is not started");
        }
        for (PolicyWarning w : policy.warnings()) {
            err.println("imans oci-hook: " + container + chosen.origin() + ": line " + w.line() + ", column "
                    + w.column() + ": warning: " + w.message());
        }
        for (PolicyWarning w : policy.gaps()) {
            err.println("imans oci-hook: " + container + chosen.origin() + ": line " + w.line() + ", column "
                    + w.column() + ": note: " + w.message());
        }
        return policy;
    }

    /**
     * Whether the namespace already has exactly this policy (the hook configured at two stages, or
     * run again): then nothing is written, since writes append. A different policy already in force
     * belongs to someone else (a container joining another's namespace) and is not extended.
     */
    private static boolean inForce(Path dir, String nsid, Policy policy, ContainerPolicy chosen)
            throws HookException {
        String current;
        try {
            current = ControlFiles.read(NamespaceControl.policyFile(dir, Long.parseLong(nsid)));
        } catch (ControlFiles.ControlIoException e) {
            throw new HookException("cannot read the policy of namespace " + nsid + ": " + e.getMessage());
        }
        if (current.isEmpty()) {
            return false;
        }
        if (current.equals(policy.show())) {
            return true;
        }
        throw new HookException("mount namespace " + nsid + " already has a different policy; rules can only be"
                + " appended, so " + chosen.origin() + " is not added to it");
    }
}
