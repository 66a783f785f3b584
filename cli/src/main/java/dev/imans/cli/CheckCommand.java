package dev.imans.cli;

import dev.imans.appraise.AppraisalResult;
import dev.imans.appraise.Requirements;
import dev.imans.crypto.HashAlgo;
import dev.imans.crypto.Keyring;
import dev.imans.linux.FileStat;
import dev.imans.linux.LinuxException;
import dev.imans.linux.Stat;
import dev.imans.policy.AccessFacts;
import dev.imans.policy.FileFacts;
import dev.imans.policy.Action;
import dev.imans.policy.Func;
import dev.imans.policy.Mask;
import dev.imans.policy.MatchResult;
import dev.imans.policy.Policy;
import dev.imans.policy.PolicyError;
import dev.imans.policy.PolicyException;
import dev.imans.policy.PolicyMatcher;
import dev.imans.policy.PolicyParser;
import dev.imans.policy.PolicyWarning;
import dev.imans.policy.Rule;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code imans check --policy FILE TREE...}: a dry run. For every regular file, what the policy would
 * decide for an open (and, for files with an execute bit, an exec) and which rule decides it, then a
 * summary by cause, so an operator sees what a policy will refuse before loading it.
 */
@Command(name = "check", mixinStandardHelpOptions = true,
        description = {"Say what a policy would decide for every file of the trees, before it is loaded: allow, or",
                "the kernel's cause (missing-hash, invalid-hash, IMA-signature-required...), and the rule that",
                "decides. Files are judged for an open by --uid (FILE_CHECK, read) and, when executable, for an",
                "exec (BPRM_CHECK), on the filesystem they live on. A summary by cause ends the output."},
        exitCodeListHeading = "Exit codes:%n",
        exitCodeList = {"0:every file would be allowed", "1:some file would be refused, or could not be read",
                "2:usage error or a policy the kernel would reject"})
final class CheckCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = {"-p", "--policy"}, paramLabel = "FILE", required = true,
            description = "the policy to judge with, in the kernel's language")
    Path policyFile;

    @Option(names = "--ns-view", paramLabel = "PID",
            description = "see the trees as process PID sees them (its mount namespace and root)")
    Long nsView;

    @Option(names = "--uid", paramLabel = "UID", defaultValue = "0",
            description = "the opener's uid, euid and gid for uid=/euid=/gid= conditions (default: ${DEFAULT-VALUE})")
    long uid;

    @Option(names = {"-k", "--key"}, paramLabel = "CERT[,CERT...]", description = "certificates to verify signatures with")
    List<String> keys = List.of();

    @Option(names = "--ima-hash", paramLabel = "ALGO", converter = AlgoConverter.class, defaultValue = "sha256",
            description = "the kernel's ima_hash= default algorithm (default: ${DEFAULT-VALUE})")
    HashAlgo imaHash;

    @Option(names = {"-q", "--refused-only"}, description = "print only the files that would be refused")
    boolean refusedOnly;

    @Parameters(arity = "1..*", paramLabel = "TREE", description = "files or directories (walked, links not followed)")
    List<Path> trees;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Optional<Policy> policy = readPolicy(err);
        if (policy.isEmpty()) {
            return 2;
        }
        Keyring keyring = KeyOptions.keyring(spec, keys);
        CheckView view;
        try {
            view = CheckView.of(nsView);
        } catch (IOException e) {
            err.println("imans check: cannot read the mounts of " + (nsView == null ? "this process" : "pid " + nsView)
                    + ": " + ListFile.reason(e));
            return 2;
        }
        CheckSummary summary = new CheckSummary();
        Progress progress = new Progress(err);
        FileRun run = new FileRun("check", err);
        int rc = run.run(trees.stream().map(view::resolve).toList(), true, real -> {
            progress.tick();
            Path shown = view.shown(real);
            FileStat st = Stat.lstat(real);
            boolean allowed = judge(policy.get(), view, real, shown, st, Func.FILE_CHECK, keyring, summary, out, run);
            if ((st.mode() & 0111) != 0) {
                allowed &= judge(policy.get(), view, real, shown, st, Func.BPRM_CHECK, keyring, summary, out, run);
            }
            return allowed;
        });
        progress.done();
        summary.print(out);
        out.flush();
        return rc;
    }

    private boolean judge(Policy policy, CheckView view, Path real, Path shown, FileStat st, Func func,
                          Keyring keyring, CheckSummary summary, PrintWriter out, FileRun run)
            throws LinuxException, IOException {
        var fs = view.filesystem(real, st);
        int mask = func == Func.BPRM_CHECK ? Mask.MAY_EXEC.bit() : Mask.MAY_READ.bit();
        var file = new FileFacts(fs.magic(), fs.name(), fs.uuid(), Integer.toUnsignedLong(st.uid()),
                Integer.toUnsignedLong(st.gid()));
        var facts = new AccessFacts(func, mask, file, uid, uid, uid, uid, uid, uid, false, false, null, null);
        MatchResult m = PolicyMatcher.match(policy, facts);
        Optional<Rule> decider = m.matched().stream()
                .filter(r -> r.action() == Action.APPRAISE || r.action() == Action.DONT_APPRAISE).findFirst();
        String rule = decider.map(r -> "rule " + r.line() + ": " + r.show().strip()).orElse("no appraise rule");
        if (!m.appraise()) {
            summary.allowed(func);
            if (!refusedOnly) {
                out.println(shown + ": " + func + ": allow (" + rule + ")");
            }
            return true;
        }
        Requirements req = new Requirements(m.signatureRequired(), m.appraiseAlgos(), imaHash);
        AppraisalResult r = LocalAppraisal.appraise(real, run.digester(), req, keyring).result();
        if (r.passed()) {
            summary.allowed(func);
            if (!refusedOnly) {
                out.println(shown + ": " + func + ": allow, appraised: " + r.reason() + " (" + rule + ")");
            }
            return true;
        }
        String cause = r.causeText().orElse("unknown");
        summary.refused(func, cause);
        out.println(shown + ": " + func + ": refused " + cause + ": " + r.reason() + " (" + rule + ")");
        return false;
    }

    private Optional<Policy> readPolicy(PrintWriter err) {
        String text;
        try {
            text = new String(Files.readAllBytes(policyFile), StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            err.println("imans check: cannot read " + policyFile + ": " + ListFile.reason(e));
            return Optional.empty();
        }
        try {
            Policy p = PolicyParser.parse(text);
            for (PolicyWarning w : p.warnings()) {
                err.println(policyFile + ":" + w.line() + ":" + w.column() + ": warning: " + w.message());
            }
            return Optional.of(p);
        } catch (PolicyException e) {
            for (PolicyError pe : e.errors()) {
                err.println(policyFile + ":" + pe.line() + ":" + pe.column() + ": " + pe.reason());
            }
            err.println("imans check: " + policyFile + " would be rejected by the kernel; nothing checked");
            return Optional.empty();
        }
    }

    /** A count of files on a terminal's standard error, for large trees; nothing when not interactive. */
    private static final class Progress {
        private final PrintWriter err;
        private final boolean shown = System.console() != null && System.console().isTerminal();
        private long files;

        Progress(PrintWriter err) {
            this.err = err;
        }

        void tick() {
            files++;
            if (shown && files % 256 == 0) {
                err.print("\r" + files + " files checked");
                err.flush();
            }
        }

        void done() {
            if (shown && files >= 256) {
                err.print("\r\033[K");
                err.flush();
            }
        }
    }
}
