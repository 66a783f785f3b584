package dev.imans.cli;

import dev.imans.attest.KeylimeImaCheck;
import dev.imans.attest.RuntimePolicy;
import dev.imans.crypto.HashAlgo;
import dev.imans.crypto.Hex;
import dev.imans.crypto.KeyFiles;
import dev.imans.crypto.VerificationKey;
import dev.imans.measure.Field;
import dev.imans.measure.ListRecord;
import dev.imans.measure.MeasurementEntry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.regex.PatternSyntaxException;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code imans keylime-policy}: a Keylime runtime policy from labelled trees, lists and other policies. */
@Command(name = "keylime-policy",
        mixinStandardHelpOptions = true,
        description = {"Write a Keylime runtime policy (the JSON of Keylime 7.x: meta, release, digests, excludes, "
                + "keyrings, ima, ima-buf, verification-keys) from labelled trees, measurement lists and "
                + "existing policies.",
                "A tree gives every regular file's digest in the algorithm of its security.ima (sha256 when "
                + "unlabelled, or --algo), named as the container sees it: --root DIR maps DIR to /, "
                + "--tree DIR --prefix P maps DIR to P (default: DIR itself). Trees also add the all-zero "
                + "boot_aggregate an imans namespace list opens with, unless --boot-aggregate is given. A list "
                + "(ascii or binary, as the control filesystem serves it) gives each entry's name and file "
                + "digest, boot_aggregate included. --merge adds the digests, excludes, keyrings and keys of "
                + "existing policies; --verification-key adds keys whose signatures Keylime accepts. 'verify' checks a list against a policy as Keylime's verifier does.",
                "Exit status: 0 written, 1 an input could not be read or is invalid, 2 usage error."},
        subcommands = {KeylimePolicyVerifyCommand.class})
public final class KeylimePolicyCommand implements Callable<Integer> {
    static final int EXIT_OK = 0;
    static final int EXIT_FAIL = 1;
    static final int EXIT_USAGE = 2;

    @Spec
    CommandSpec spec;

    /** {@code --tree DIR [--prefix PATH]}. */
    static final class TreeInput {
        @Option(names = "--tree", required = true, paramLabel = "DIR",
                description = "A labelled directory tree; every regular file below it is added.")
        Path dir;

        @Option(names = "--prefix", paramLabel = "PATH",
                description = "Where the preceding --tree appears to the measured processes. Default: the tree's own path.")
        String prefix;
    }

    @ArgGroup(exclusive = false, multiplicity = "0..*")
    List<TreeInput> trees = new ArrayList<>();

    @Option(names = "--root", paramLabel = "DIR",
            description = "A container's root filesystem: the same as --tree DIR --prefix /.")
    List<Path> roots = new ArrayList<>();

    @Option(names = "--list", paramLabel = "FILE",
            description = "A measurement list (ascii_runtime_measurements or binary_runtime_measurements).")
    List<Path> lists = new ArrayList<>();

    @Option(names = "--list-bank", converter = BankConverter.class, paramLabel = "ALGO", defaultValue = "sha1",
            description = "Template digest algorithm of the --list files. Default: ${DEFAULT-VALUE}.")
    HashAlgo listBank;

    @Option(names = "--merge", paramLabel = "POLICY",
            description = "An existing Keylime runtime policy (JSON) to merge in.")
    List<Path> merges = new ArrayList<>();

    @Option(names = "--verification-key", paramLabel = "FILE",
            description = "A certificate or public key (PEM or DER) whose IMA signatures Keylime accepts in place of "
                    + "digests; goes to verification-keys (repeatable).")
    List<Path> verificationKeyFiles = new ArrayList<>();

    @Option(names = "--exclude", paramLabel = "REGEX",
            description = "A path regular expression (Python syntax, matched from the start) that Keylime skips.")
    List<String> excludes = new ArrayList<>();

    @Option(names = {"-a", "--algo"}, converter = AlgoConverter.class, paramLabel = "ALGO",
            description = "Hash every tree file with ALGO instead of its security.ima's algorithm "
                    + "(use the daemon's --hash when labels use another).")
    HashAlgo algo;

    @Option(names = "--boot-aggregate", paramLabel = "HEX|none",
            description = "A boot_aggregate digest to accept (repeatable), or 'none' to add none. "
                    + "Default with trees: zeros of --algo, else of sha256.")
    List<String> bootAggregates = new ArrayList<>();

    @Option(names = "--release", paramLabel = "N", defaultValue = "0",
            description = "The policy's release number. Default: ${DEFAULT-VALUE}.")
    long release;

    @Option(names = "--log-hash-alg", paramLabel = "ALGO",
            description = "Template digest algorithm of the lists Keylime will check: sha1 (ascii_runtime_measurements, "
                    + "the default), sha256, sha384, sha512.")
    String logHashAlg;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "Write the policy to FILE instead of standard output.")
    Path output;

    @Override
    public Integer call() {
        if (trees.isEmpty() && roots.isEmpty() && lists.isEmpty() && merges.isEmpty()) {
            throw new ParameterException(spec.commandLine(), "nothing to read: give --root, --tree, --list or --merge");
        }
        if (logHashAlg != null && !RuntimePolicy.LOG_HASH_ALGS.contains(logHashAlg)) {
            throw new ParameterException(spec.commandLine(), "--log-hash-alg must be sha1, sha256, sha384 or sha512");
        }
        if (release < 0) {
            throw new ParameterException(spec.commandLine(), "--release must be at least 0");
        }
        for (String x : excludes) {
            try {
                KeylimeImaCheck.excludeRegex(List.of(x));
            } catch (PatternSyntaxException e) {
                throw new ParameterException(spec.commandLine(), "--exclude '" + x + "' is not a regular expression: "
                        + e.getDescription());
            }
        }
        RuntimePolicy.Builder b = new RuntimePolicy.Builder();
        // ImaKeyring: keys by key id, a later key with the same id replacing the earlier.
        Map<Integer, VerificationKey> keys = new LinkedHashMap<>();
        try {
            for (Path m : merges) {
                RuntimePolicy p = readPolicy(m);
                b.merge(p);
                for (VerificationKey k : KeylimePolicyJson.tenantKeys(p.verificationKeys())) {
                    keys.put(k.keyId().value(), k);
                }
            }
            for (Path f : verificationKeyFiles) {
                VerificationKey k;
                try {
                    k = KeyFiles.readVerificationKey(Files.readAllBytes(f), f.toString());
                } catch (IOException e) {
                    return fail(f + ": cannot read: " + ListFile.reason(e));
                }
                keys.put(k.subjectKeyId().orElse(k.keyId()).value(), k);
            }
            if (!keys.isEmpty()) {
                b.verificationKeys(KeylimePolicyJson.keyring(List.copyOf(keys.values())));
            }
            for (Path l : lists) {
                addList(b, l);
            }
            List<TreeInput> all = new ArrayList<>(trees);
            for (Path r : roots) {
                TreeInput t = new TreeInput();
                t.dir = r;
                t.prefix = "/";
                all.add(t);
            }
            for (TreeInput t : all) {
                String prefix = t.prefix != null ? t.prefix : t.dir.toAbsolutePath().normalize().toString();
                if (!prefix.startsWith("/")) {
                    throw new ParameterException(spec.commandLine(), "--prefix must be an absolute path: " + prefix);
                }
                if (!Files.isDirectory(t.dir)) {
                    return fail(t.dir + ": not a directory");
                }
                for (TreeDigests.FileDigest f : TreeDigests.walk(t.dir, prefix, Optional.ofNullable(algo))) {
                    b.digest(f.name(), f.hex());
                }
            }
            List<String> ba = new ArrayList<>(bootAggregates);
            if (ba.isEmpty() && !all.isEmpty()) {
                ba.add("0".repeat(2 * (algo == null ? HashAlgo.SHA256 : algo).digestSize()));
            }
            for (String v : ba) {
                if (v.equals("none")) {
                    continue;
                }
                if (!RuntimePolicy.DIGEST_PATTERN.matcher(v).matches()) {
                    throw new ParameterException(spec.commandLine(),
                            "--boot-aggregate must be 40 to 128 lowercase hex digits or 'none': " + v);
                }
                b.digest(RuntimePolicy.BOOT_AGGREGATE, v);
            }
        } catch (ListFile.Failure f) {
            return fail(f.getMessage());
        } catch (TreeDigests.Failure | KeylimePolicyJson.Invalid e) {
            return fail(e.getMessage());
        } catch (IllegalArgumentException e) {
            return fail(e.getMessage());
        }
        excludes.forEach(b::exclude);
        b.release(release);
        if (logHashAlg != null) {
            b.logHashAlg(logHashAlg);
        }
        // Keylime's create_runtime_policy stamps str(datetime.now()).
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSSSSS"));
        String json = KeylimePolicyJson.write(b.build(Optional.of(stamp)));
        if (output == null) {
            System.out.print(json);
            System.out.flush();
            return EXIT_OK;
        }
        try {
            Files.writeString(output, json);
        } catch (IOException e) {
            System.err.println("imans keylime-policy: " + output + ": cannot write: " + ListFile.reason(e));
            return EXIT_USAGE;
        }
        return EXIT_OK;
    }

    static RuntimePolicy readPolicy(Path file) throws KeylimePolicyJson.Invalid {
        byte[] data;
        try {
            data = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new KeylimePolicyJson.Invalid(file + ": cannot read: " + ListFile.reason(e));
        }
        try {
            return KeylimePolicyJson.read(data);
        } catch (KeylimePolicyJson.Invalid e) {
            throw new KeylimePolicyJson.Invalid(file + ": not a Keylime runtime policy: " + e.getMessage());
        }
    }

    /**
     * Each entry's name and file digest, as Keylime's {@code get_hashes_from_measurement_list}
     * takes them, plus {@code ima} entries (which Keylime's verifier checks against the same
     * digests). Violations carry no digest; ima-buf entries are left out; templates Keylime cannot parse are refused, since no
     * policy could make their lines pass.
     */
    private void addList(RuntimePolicy.Builder b, Path file) throws ListFile.Failure {
        ListFile.AnyList list = ListFile.readAny(file, listBank);
        for (ListRecord r : list.records()) {
            MeasurementEntry e = r.entry();
            if (e.isViolation()) {
                continue;
            }
            String t = e.template().name();
            if (t.equals("ima-buf")) {
                // Buffers (keys, kernel data) go to keyrings or ima-buf in Keylime's tool, never to digests.
                continue;
            }
            if (!List.of("ima", "ima-ng", "ima-sig").contains(t)) {
                throw new ListFile.Failure(EXIT_FAIL, file + ": offset " + r.offset() + ": " + t
                        + " entries cannot be checked by Keylime (it reads ima, ima-ng, ima-sig and ima-buf only)");
            }
            byte[] d = e.field(0);
            if (e.template().fields().get(0) == Field.D_NG) {
                int nul = 0;
                while (nul < d.length && d[nul] != 0) {
                    nul++;
                }
                d = Arrays.copyOfRange(d, Math.min(nul + 1, d.length), d.length);
            }
            b.digest(e.eventName(), Hex.of(d));
        }
    }

    private static int fail(String message) {
        System.err.println("imans keylime-policy: " + message);
        return EXIT_FAIL;
    }
}
