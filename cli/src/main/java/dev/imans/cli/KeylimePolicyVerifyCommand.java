package dev.imans.cli;

import dev.imans.attest.KeylimeImaCheck;
import dev.imans.attest.KeylimeImaCheck.EntryResult;
import dev.imans.attest.KeylimeImaCheck.Options;
import dev.imans.attest.KeylimeImaCheck.Result;
import dev.imans.attest.RuntimePolicy;
import dev.imans.crypto.HashAlgo;
import dev.imans.crypto.Hex;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.regex.PatternSyntaxException;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code imans keylime-policy verify}: Keylime's verdict on a measurement list, without Keylime. */
@Command(name = "verify",
        mixinStandardHelpOptions = true,
        description = {"Check a measurement list against a Keylime runtime policy with the rules of Keylime's "
                + "verifier (keylime/ima/ima.py, v7.14.3).",
                "Each entry's line is parsed as Keylime parses it (ima, ima-ng, ima-sig, ima-buf; PCR 10 only), its "
                + "template hash is checked in the policy's log_hash_alg, then its path: a path matching an "
                + "exclude is skipped, a path missing from digests or with a digest not listed fails. Every "
                + "parsable entry is replayed into one PCR of --bank; with --pcr the value must equal the replay "
                + "after some entry (the PCR may lag the list). An ima-sig entry whose signature a key of "
                + "verification-keys (or a key the list loaded onto a keyring the policy accepts) verifies passes "
                + "without digests. Prints PASS, SKIP or FAIL per entry with Keylime's event id and message, then "
                + "the PCR and the verdict.",
                "Exit status: 0 Keylime would accept the list, 1 it would not (or an input is invalid), 2 usage error."})
final class KeylimePolicyVerifyCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--policy", required = true, paramLabel = "FILE", description = "The Keylime runtime policy (JSON).")
    Path policyFile;

    @Option(names = "--list", required = true, paramLabel = "FILE",
            description = "The measurement list: ascii (what Keylime's agent sends) or binary.")
    Path listFile;

    @Option(names = "--list-bank", converter = BankConverter.class, paramLabel = "ALGO", defaultValue = "sha1",
            description = "Template digest algorithm of the list FILE. Default: ${DEFAULT-VALUE}.")
    HashAlgo listBank;

    @Option(names = "--bank", converter = BankConverter.class, paramLabel = "ALGO", defaultValue = "sha1",
            description = "The PCR bank Keylime's quote uses (sha1, sha256, sha384, sha512). Default: ${DEFAULT-VALUE}.")
    HashAlgo bank;

    @Option(names = "--pcr", paramLabel = "HEX",
            description = "The PCR 10 value to match (imans measurements pcrs --format keylime). Without it the "
                    + "replay is printed but not compared.")
    String pcr;

    @Option(names = "--boot-aggregate", paramLabel = "HEX",
            description = "A boot aggregate the verifier computed from the boot log; accepted for boot_aggregate "
                    + "besides the policy's (repeatable).")
    List<String> bootAggregates = new ArrayList<>();

    @Option(names = "--ignore-tomtou-errors",
            description = "Keylime's verifier setting of that name, with its code's effect: ToMToU entries then fail "
                    + "('tomtou' event); without it they pass unchecked.")
    boolean ignoreTomtouErrors;

    @Option(names = {"-q", "--quiet"}, description = "Print only failing entries and the verdict.")
    boolean quiet;

    @Override
    public Integer call() {
        Optional<byte[]> pcrValue = Optional.empty();
        if (pcr != null) {
            try {
                pcrValue = Optional.of(HexFormat.of().parseHex(pcr.strip()));
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), "--pcr is not hex: " + pcr);
            }
            if (pcrValue.get().length != bank.digestSize()) {
                throw new ParameterException(spec.commandLine(), "--pcr has " + pcrValue.get().length + " bytes, a "
                        + bank + " PCR has " + bank.digestSize());
            }
        }
        if (!RuntimePolicy.LOG_HASH_ALGS.contains(bank.kernelName())) {
            throw new ParameterException(spec.commandLine(), "--bank must be sha1, sha256, sha384 or sha512");
        }
        RuntimePolicy policy;
        List<dev.imans.crypto.VerificationKey> tenantKeys;
        ListFile.AnyList list;
        try {
            policy = KeylimePolicyCommand.readPolicy(policyFile);
            tenantKeys = KeylimePolicyJson.tenantKeys(policy.verificationKeys());
            list = ListFile.readAny(listFile, listBank);
        } catch (KeylimePolicyJson.Invalid e) {
            return fail(e.getMessage());
        } catch (ListFile.Failure f) {
            return fail(f.getMessage());
        }
        Result r;
        try {
            r = KeylimeImaCheck.check(new String(list.text(), StandardCharsets.UTF_8), policy,
                    new Options(bank, pcrValue, bootAggregates, ignoreTomtouErrors, tenantKeys));
        } catch (PatternSyntaxException e) {
            return fail(policyFile + ": an exclude is not a regular expression this check can apply as Keylime would: "
                    + e.getDescription() + " in " + e.getPattern());
        }
        StringBuilder out = new StringBuilder();
        for (EntryResult e : r.entries()) {
            if (quiet && e.verdict() != KeylimeImaCheck.Verdict.FAIL) {
                continue;
            }
            String verdict = switch (e.verdict()) {
                case PASS -> "PASS";
                case SKIPPED -> "SKIP";
                case FAIL -> "FAIL";
            };
            out.append(verdict).append(' ').append(e.path());
            if (e.verdict() == KeylimeImaCheck.Verdict.FAIL) {
                out.append(": ").append(e.events().stream().map(Object::toString).collect(Collectors.joining("; ")));
            } else if (!e.why().isEmpty()) {
                out.append(": ").append(e.why());
            }
            out.append(" (line ").append(e.line()).append(")\n");
        }
        if (!r.failuresByMode().isEmpty()) {
            out.append("IMA ERRORS: Some entries couldn't be validated. Number of failures in modes: ")
                    .append(r.failuresByMode().entrySet().stream().map(x -> x.getKey() + " " + x.getValue())
                            .collect(Collectors.joining(", "))).append('\n');
        }
        out.append("PCR-10 ").append(bank).append(": ").append(Hex.of(r.runningHash()));
        if (pcrValue.isEmpty()) {
            out.append(" (no --pcr: not compared)");
        } else if (r.pcrMatchLine().isPresent()) {
            out.append(" (--pcr matched after ").append(r.pcrMatchLine().get()).append(" entr")
                    .append(r.pcrMatchLine().get() == 1 ? "y" : "ies").append(")");
        }
        out.append('\n');
        System.out.print(out);
        System.out.flush();
        if (r.passed()) {
            System.out.println("OK: Keylime would accept this list (" + r.entries().size() + " entries)");
            return KeylimePolicyCommand.EXIT_OK;
        }
        System.out.println("FAIL: Keylime would not accept this list: " + r.events().size() + " event(s)"
                + r.events().stream().filter(e -> e.id().equals("ima.pcr_mismatch")).findFirst()
                        .map(e -> "; " + e).orElse(""));
        return KeylimePolicyCommand.EXIT_FAIL;
    }

    private static int fail(String message) {
        System.err.println("imans keylime-policy verify: " + message);
        return KeylimePolicyCommand.EXIT_FAIL;
    }
}
