package dev.imans.cli;

import dev.imans.linux.Lsms;
import dev.imans.policy.ActiveLsms;
import dev.imans.policy.BuiltinPolicy;
import dev.imans.policy.KernelProfile;
import dev.imans.policy.Policy;
import dev.imans.policy.PolicyError;
import dev.imans.policy.PolicyException;
import dev.imans.policy.PolicyParser;
import dev.imans.policy.PolicyWarning;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code imans policy check FILE|-}: tells whether the kernel (Debian's 6.1 profile) would accept a
 * policy. Accepted: exit 0 and the kernel's read-back on stdout, byte for byte, with rules imans
 * cannot enforce reported on stderr. Refused: exit 1 and one {@code FILE:LINE:COL: reason} line
 * per bad rule. Unreadable input or an unknown built-in: exit 2.
 *
 * <p>LSM conditions are reported against the host's active LSMs (where they can be read) or those
 * named by {@code --lsm}; with {@code --lsm} the verdict too is that of a kernel running them (which
 * LSM conditions its first policy write accepts).
 *
 * <p>Text is read and written as ISO-8859-1, so every byte of the policy maps to one character and
 * the read-back reproduces the input bytes, as the kernel (which sees bytes) does.
 */
@Command(name = "check",
        mixinStandardHelpOptions = true,
        description = {"Check an IMA policy as the kernel would and print its read-back.",
                "Exit status: 0 accepted, 1 rejected, 2 unreadable input or unknown built-in."})
public final class PolicyCheckCommand implements Callable<Integer> {
    static final int ACCEPTED = 0;
    static final int REJECTED = 1;
    static final int UNUSABLE = 2;

    @ArgGroup(multiplicity = "1")
    Source source;

    static final class Source {
        @Parameters(paramLabel = "FILE", description = "Policy file, or - for standard input.")
        String file;

        @Option(names = "--builtin", paramLabel = "NAME",
                description = "Print a built-in policy (ima_policy=NAME): tcb, ima_tcb, appraise_tcb, secure_boot, critical_data.")
        String builtin;
    }

    @Option(names = "--lsm", paramLabel = "LIST",
            description = {"Judge as a kernel running these LSMs: a comma-separated list (selinux, apparmor, smack,"
                    + " ...; none), or host for this kernel's. Without it: the reference kernel's verdict, with LSM"
                    + " conditions reported against this kernel's LSMs."})
    String lsm;

    @Override
    public Integer call() {
        PrintStream out = System.out;
        PrintStream err = System.err;
        Optional<ActiveLsms> lsms;
        KernelProfile profile = KernelProfile.defaults();
        if (lsm == null || lsm.equals("host")) {
            lsms = Lsms.active().map(ActiveLsms::new);
            if (lsm != null) {
                if (lsms.isEmpty()) {
                    return unusable(err, "cannot tell this kernel's LSMs (no lsm_list_modules, and no"
                            + " /sys/kernel/security/lsm)");
                }
                profile = profile.withLsmRules(lsms.get().ruleKeys());
            }
        } else {
            lsms = Optional.of(ActiveLsms.parse(lsm));
            profile = profile.withLsmRules(lsms.get().ruleKeys());
        }
        if (source.builtin != null) {
            Optional<Policy> p = BuiltinPolicy.named(source.builtin);
            if (p.isEmpty()) {
                err.println("imans policy check: unknown built-in policy \"" + source.builtin + "\"; known: "
                        + String.join(", ", BuiltinPolicy.NAMES));
                err.flush();
                return UNUSABLE;
            }
            return accepted(p.get(), "builtin:" + source.builtin, lsms, out, err);
        }
        String name = source.file.equals("-") ? "<stdin>" : source.file;
        String text;
        try {
            byte[] bytes = source.file.equals("-") ? System.in.readAllBytes() : Files.readAllBytes(Path.of(source.file));
            text = new String(bytes, StandardCharsets.ISO_8859_1);
        } catch (NoSuchFileException e) {
            return unreadable(err, name, "no such file");
        } catch (AccessDeniedException e) {
            return unreadable(err, name, "permission denied");
        } catch (IOException e) {
            return unreadable(err, name, Files.isDirectory(Path.of(source.file)) ? "is a directory"
                    : String.valueOf(e.getMessage()));
        }
        try {
            return accepted(PolicyParser.parse(text, profile), name, lsms, out, err);
        } catch (PolicyException e) {
            for (PolicyError pe : e.errors()) {
                err.println(name + ":" + pe.line() + ":" + pe.column() + ": " + pe.reason());
            }
            err.flush();
            return REJECTED;
        }
    }

    private static int accepted(Policy policy, String name, Optional<ActiveLsms> lsms, PrintStream out,
                                PrintStream err) {
        byte[] readBack = policy.show().getBytes(StandardCharsets.ISO_8859_1);
        out.write(readBack, 0, readBack.length);
        out.flush();
        for (PolicyWarning w : policy.warnings(lsms)) {
            err.println(name + ":" + w.line() + ":" + w.column() + ": warning: " + w.message());
        }
        for (PolicyWarning w : policy.gaps()) {
            err.println(name + ":" + w.line() + ":" + w.column() + ": note: " + w.message());
        }
        err.flush();
        return ACCEPTED;
    }

    private static int unusable(PrintStream err, String why) {
        err.println("imans policy check: " + why);
        err.flush();
        return UNUSABLE;
    }

    private static int unreadable(PrintStream err, String name, String why) {
        err.println("imans policy check: cannot read " + name + ": " + why);
        err.flush();
        return UNUSABLE;
    }
}
