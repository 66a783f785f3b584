package dev.imans.cli;

import dev.imans.appraise.AppraisalResult;
import dev.imans.appraise.Requirements;
import dev.imans.crypto.HashAlgo;
import dev.imans.crypto.Hex;
import dev.imans.crypto.Keyring;
import dev.imans.linux.Xattr;
import dev.imans.xattr.ImaXattr;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code imans xattr explain}: decodes a file's {@code security.ima}, recomputes, and says what the kernel would do. */
@Command(name = "explain", mixinStandardHelpOptions = true,
        description = {"Decode each file's security.ima, recompute the digest the kernel would compute, and say",
                "plainly whether it matches and, if not, why, with the audit cause the kernel would log."},
        exitCodeListHeading = "Exit codes:%n",
        exitCodeList = {"0:every value matches", "1:some value does not match or a file failed", "2:usage error"})
final class XattrExplainCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = {"-k", "--key"}, paramLabel = "CERT[,CERT...]", description = "certificates to verify signatures with")
    List<String> keys = List.of();

    @Option(names = "--ima-hash", paramLabel = "ALGO", converter = AlgoConverter.class, defaultValue = "sha256",
            description = "the kernel's ima_hash= default algorithm (default: ${DEFAULT-VALUE})")
    HashAlgo defaultAlgo;

    @Option(names = {"-r", "--recursive"}, description = "walk directories (regular files only, links not followed)")
    boolean recursive;

    @Parameters(arity = "1..*", paramLabel = "PATH")
    List<Path> paths;

    @Override
    public Integer call() {
        Keyring keyring = KeyOptions.keyring(spec, keys);
        Requirements req = Requirements.hashOrSignature(defaultAlgo);
        PrintWriter out = spec.commandLine().getOut();
        FileRun run = new FileRun("xattr explain", spec.commandLine().getErr());
        return run.run(paths, recursive, f -> {
            LocalAppraisal.Outcome o = LocalAppraisal.appraise(f, run.digester(), req, keyring);
            out.print(explain(f, o.raw(), o.result()));
            out.flush();
            return o.result().passed();
        });
    }

    String explain(Path f, Optional<byte[]> raw, AppraisalResult r) {
        StringBuilder b = new StringBuilder();
        b.append("# file: ").append(XattrText.escape(f.toString())).append('\n');
        if (raw.isEmpty()) {
            b.append("security.ima: absent\n");
        } else {
            byte[] v = raw.get();
            ImaXattr x = ImaXattr.decode(v);
            b.append(Xattr.SECURITY_IMA).append("=0x").append(Hex.of(v)).append('\n');
            b.append("length:    ").append(v.length).append(" bytes\n");
            b.append("type:      ").append(v.length == 0 ? "none (empty value)"
                    : x.type().map(t -> t.describe()).orElse(String.format("0x%02x (unknown)", v[0] & 0xff))).append('\n');
            b.append("decoded:   ").append(x instanceof ImaXattr.Malformed ? "malformed (why: see result)" : x.describe())
                    .append('\n');
            stored(x).ifPresent(s -> b.append("stored:    ").append(s).append('\n'));
        }
        b.append("algorithm: ").append(r.algo()).append(" (the kernel's choice for this value; ima_hash=")
                .append(defaultAlgo).append(")\n");
        r.digest().ifPresent(d -> b.append("file:      ").append(r.algo()).append(':').append(Hex.of(d)).append('\n'));
        if (r.passed()) {
            b.append("result:    MATCHES: ").append(r.reason()).append('\n');
        } else {
            b.append("result:    DOES NOT MATCH: ").append(r.reason()).append('\n');
            b.append("kernel:    ").append(r.status()).append(", audit op=").append(r.op().orElse(""))
                    .append(" cause=").append(r.causeText().orElse("")).append('\n');
        }
        return b.append('\n').toString();
    }

    private static Optional<String> stored(ImaXattr x) {
        return switch (x) {
            case ImaXattr.Digest d -> Optional.of(d.algo() + ":" + Hex.of(d.digest()));
            case ImaXattr.DigestNg d -> Optional.of(d.algo() + ":" + Hex.of(d.digest()));
            case ImaXattr.SignatureV2 s -> Optional.of("signature by key " + s.keyId().hex() + " over the " + s.algo()
                    + " digest");
            default -> Optional.empty();
        };
    }
}
