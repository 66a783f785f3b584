package dev.imans.cli;

import dev.imans.appraise.AppraisalResult;
import dev.imans.appraise.Requirements;
import dev.imans.crypto.HashAlgo;
import dev.imans.crypto.Keyring;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code imans verify}: appraises files as the kernel would, like {@code evmctl ima_verify} but for
 * hashes too (evmctl verifies signatures only and reports "xattr ima has no signature" for hashes).
 */
@Command(name = "verify", mixinStandardHelpOptions = true,
        description = {"Check each file's security.ima against its content, as evmctl ima_verify does.",
                "Hashes are recomputed and compared; signatures are verified with the given certificates",
                "(default: /etc/keys/x509_evm.der, as evmctl).",
                "One line per file: 'PATH: OK: why' or 'PATH: FAIL <status> (op=... cause=...): why'."},
        exitCodeListHeading = "Exit codes:%n",
        exitCodeList = {"0:every file verified", "1:some file failed", "2:usage error"})
final class VerifyCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = {"-k", "--key"}, paramLabel = "CERT[,CERT...]", description = "verification certificates or public keys, PEM or DER")
    List<String> keys = List.of();

    @Option(names = "--require-signature", description = "fail hashes, as a rule with appraise_type=imasig does")
    boolean requireSignature;

    @Option(names = "--ima-hash", paramLabel = "ALGO", converter = AlgoConverter.class, defaultValue = "sha256",
            description = "the kernel's ima_hash= default, used for values that name no algorithm (default: ${DEFAULT-VALUE})")
    HashAlgo defaultAlgo;

    @Mixin
    FileArgs files;

    @Override
    public Integer call() {
        Keyring keyring = KeyOptions.keyring(spec, keys);
        Requirements req = new Requirements(requireSignature, java.util.Set.of(), defaultAlgo);
        PrintWriter out = spec.commandLine().getOut();
        FileRun run = new FileRun("verify", spec.commandLine().getErr());
        return run.run(files.paths, files.recursive, f -> {
            AppraisalResult r = LocalAppraisal.appraise(f, run.digester(), req, keyring).result();
            out.println(f + ": " + LocalAppraisal.verdict(r) + ": " + r.reason());
            out.flush();
            return r.passed();
        });
    }
}
