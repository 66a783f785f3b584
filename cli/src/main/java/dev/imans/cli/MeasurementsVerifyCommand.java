package dev.imans.cli;

import dev.imans.crypto.HashAlgo;
import dev.imans.measure.ListFormatException;
import dev.imans.measure.ListRecord;
import dev.imans.measure.ListVerifier;
import dev.imans.measure.PcrFile;
import dev.imans.tpm.AnchorLog;
import dev.imans.daemon.DaemonConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code imans measurements verify}: what {@code evmctl ima_measurement} checks, without a TPM:
 * every template digest against its data, and the replayed PCRs against expected values.
 */
@Command(name = "verify",
        mixinStandardHelpOptions = true,
        description = {"Verify every template digest of a binary measurement list, print the PCR values it "
                + "gives per bank ('PCR-10 sha1: hex'), and compare them with expected values. "
                + "A list with violations fails unless --ignore-violations is given, as with evmctl.",
                "With --anchor, verify the daemon's TPM anchor instead: every list against the anchor log, and the"
                        + " log's replay against the anchor PCR (read from --tpm, or a quoted --pcr-value).",
                "Exit status: 0 valid and matching, 1 invalid list or mismatch, 2 usage or I/O error."})
public final class MeasurementsVerifyCommand implements Callable<Integer> {
    private static final HexFormat HEX = HexFormat.of();

    @Option(names = "--list-bank", converter = BankConverter.class, paramLabel = "ALGO", defaultValue = "sha1",
            description = "Digest algorithm of the list FILE. Default: ${DEFAULT-VALUE}.")
    HashAlgo listBank;

    @Option(names = "--pcrs", paramLabel = "[ALGO,]PCRFILE",
            description = "Expected PCRs in evmctl's --pcrs format ('PCR-NN: hex' lines); ALGO defaults "
                    + "to sha1. PCRs the list does not extend are not compared. Repeatable.")
    List<String> pcrFiles = new ArrayList<>();

    @Option(names = "--expect-pcr", paramLabel = "[ALGO:]N=HEX",
            description = "An expected PCR value; the bank follows from the hex length unless ALGO is "
                    + "given. Repeatable.")
    List<String> expectPcrs = new ArrayList<>();

    @Option(names = "--ignore-violations",
            description = "Accept violation entries (all-zero digests, extended as 0xff as the kernel does).")
    boolean ignoreViolations;

    @Option(names = "--anchor", paramLabel = "STATE",
            description = {"Verify the daemon's TPM anchor instead of one list: replay STATE/measurements/"
                    + AnchorLog.FILE + " (the daemon's --state, e.g. /var/lib/imans), check that every entry of every"
                    + " list (live, or archived for namespaces that ended) is in it once with the same digests, and"
                    + " compare the replay with the PCR read by --tpm or given by --pcr-value. --tpm or --pcr-value"
                    + " without a FILE implies --anchor /var/lib/imans."})
    Path anchor;

    @Option(names = "--tpm", paramLabel = "DEVICE",
            description = "With --anchor: read the PCR from this TPM (/dev/tpmrm0, or tcp:HOST:PORT for swtpm).")
    String tpm;

    @Option(names = "--tpm-pcr", paramLabel = "N",
            description = "With --anchor: the PCR the anchor must be in (the log names it; a different one fails).")
    Integer tpmPcr;

    @Option(names = "--pcr-value", paramLabel = "ALGO:HEX",
            description = "With --anchor: a value of the anchor PCR, e.g. from tpm2_quote's output (repeatable).")
    List<String> pcrValues = new ArrayList<>();

    @Option(names = "--allow-newer",
            description = "With --anchor: accept records extended after the PCR value (a quote taken earlier) and"
                    + " list entries after the log's last record (a daemon measuring meanwhile); they are reported as"
                    + " not attested. Without it every record and entry must be covered.")
    boolean allowNewer;

    @Parameters(paramLabel = "FILE", arity = "0..1", description = "Binary measurement list (not with --anchor).")
    Path file;

    /** One expected value: where it came from, its bank, PCR and bytes. */
    private record Expectation(String source, HashAlgo bank, int pcr, byte[] value, boolean onlyIfUsed) {}

    /** Bad --pcrs or --expect-pcr values. */
    private static final class UsageError extends Exception {
        UsageError(String message) {
            super(message);
        }
    }

    @Override
    public Integer call() {
        if (anchor == null && file == null && (tpm != null || !pcrValues.isEmpty())) {
            anchor = DaemonConfig.DEFAULT_STATE;
        }
        if (anchor != null || file == null) {
            return anchored();
        }
        if (tpm != null || tpmPcr != null || !pcrValues.isEmpty() || allowNewer) {
            System.err.println("imans measurements verify: --tpm, --tpm-pcr, --pcr-value and --allow-newer go with --anchor");
            return MeasurementsCommand.EXIT_USAGE;
        }
        List<Expectation> expected;
        List<ListRecord> records;
        try {
            expected = expectations();
            records = ListFile.read(file, listBank);
        } catch (UsageError e) {
            System.err.println("imans measurements verify: " + e.getMessage());
            return MeasurementsCommand.EXIT_USAGE;
        } catch (ListFile.Failure f) {
            System.err.println("imans measurements verify: " + f.getMessage());
            return f.exitCode;
        }
        Set<HashAlgo> banks = new LinkedHashSet<>(List.of(HashAlgo.SHA1, HashAlgo.SHA256));
        expected.forEach(x -> banks.add(x.bank()));
        ListVerifier.Report report = ListVerifier.replay(records, List.copyOf(banks));
        boolean ok = true;

        System.out.println(file + ": " + report.records() + " entries, " + report.violations() + " violations");
        for (ListVerifier.DigestMismatch m : report.mismatches()) {
            ok = false;
            System.out.println("entry " + m.index() + " at offset " + m.offset() + " (" + m.name()
                    + "): template digest " + HEX.formatHex(m.stored()) + " does not match its data ("
                    + HEX.formatHex(m.computed()) + ")");
        }
        if (report.violations() > 0 && !ignoreViolations) {
            ok = false;
            System.out.println(report.violations() + " violation(s) in the list; --ignore-violations accepts them");
        }
        for (int pcr : report.pcrsUsed()) {
            for (HashAlgo bank : banks) {
                System.out.printf("PCR-%02d %s: %s%n", pcr, bank, report.perBank().get(bank).hex(pcr));
            }
        }
        for (Expectation x : expected) {
            if (x.onlyIfUsed() && !report.pcrsUsed().contains(x.pcr())) {
                continue;
            }
            ListVerifier.Match match = report.compare(x.bank(), x.pcr(), x.value());
            String what = String.format("PCR-%02d %s (%s)", x.pcr(), x.bank(), x.source());
            switch (match) {
                case PER_BANK -> System.out.println(what + ": matches");
                case SHA1_PADDED -> System.out.println(what + ": matches the SHA-1 padded digests (kernel before 5.8)");
                case MISMATCH -> {
                    ok = false;
                    System.out.println(what + ": MISMATCH, expected " + HEX.formatHex(x.value()));
                }
            }
        }
        for (String f : missingUsedPcrs(expected, report)) {
            ok = false;
            System.out.println(f);
        }
        System.out.println(ok ? "OK" : "FAILED");
        System.out.flush();
        return ok ? MeasurementsCommand.EXIT_OK : MeasurementsCommand.EXIT_FAIL;
    }

    private int anchored() {
        if (anchor == null) {
            System.err.println("imans measurements verify: give a list FILE, or --anchor STATE");
            return MeasurementsCommand.EXIT_USAGE;
        }
        if (file != null || !pcrFiles.isEmpty() || !expectPcrs.isEmpty()) {
            System.err.println("imans measurements verify: --anchor verifies the daemon's lists: no FILE, --pcrs"
                    + " or --expect-pcr with it");
            return MeasurementsCommand.EXIT_USAGE;
        }
        List<AnchorVerify.Expected> given = new ArrayList<>();
        try {
            for (String v : pcrValues) {
                given.add(AnchorVerify.pcrValue(v));
            }
        } catch (IllegalArgumentException e) {
            System.err.println("imans measurements verify: " + e.getMessage());
            return MeasurementsCommand.EXIT_USAGE;
        }
        return AnchorVerify.run(anchor, java.util.Optional.ofNullable(tpm), java.util.Optional.ofNullable(tpmPcr),
                given, allowNewer, System.out, System.err);
    }

    /** A PCR file that lacks a PCR the list extends cannot vouch for it: evmctl fails there too. */
    private List<String> missingUsedPcrs(List<Expectation> expected, ListVerifier.Report report) {
        List<String> out = new ArrayList<>();
        for (String spec : pcrFiles) {
            for (int pcr : report.pcrsUsed()) {
                boolean has = expected.stream().anyMatch(x -> x.source().equals(spec) && x.pcr() == pcr);
                if (!has) {
                    out.add(String.format("PCR-%02d: not in %s", pcr, spec));
                }
            }
        }
        return out;
    }

    private List<Expectation> expectations() throws UsageError {
        List<Expectation> out = new ArrayList<>();
        for (String spec : pcrFiles) {
            int comma = spec.indexOf(',');
            HashAlgo bank = comma < 0 ? HashAlgo.SHA1 : bank(spec.substring(0, comma));
            Path p = Path.of(comma < 0 ? spec : spec.substring(comma + 1));
            String text;
            try {
                text = Files.readString(p);
            } catch (IOException e) {
                throw new UsageError("--pcrs " + spec + ": cannot read: " + ListFile.reason(e));
            }
            Map<Integer, byte[]> values;
            try {
                values = PcrFile.parse(text, bank);
            } catch (ListFormatException e) {
                throw new UsageError("--pcrs " + spec + ": " + e.getMessage());
            }
            values.forEach((pcr, v) -> out.add(new Expectation(spec, bank, pcr, v, true)));
        }
        for (String spec : expectPcrs) {
            out.add(expectPcr(spec));
        }
        return out;
    }

    private static Expectation expectPcr(String spec) throws UsageError {
        int eq = spec.indexOf('=');
        if (eq < 0) {
            throw new UsageError("--expect-pcr " + spec + ": expected [ALGO:]N=HEX");
        }
        String left = spec.substring(0, eq);
        String hex = spec.substring(eq + 1).strip().toLowerCase(java.util.Locale.ROOT);
        int colon = left.indexOf(':');
        HashAlgo bank = null;
        if (colon >= 0) {
            bank = bank(left.substring(0, colon));
            left = left.substring(colon + 1);
        }
        int pcr;
        byte[] value;
        try {
            pcr = Integer.parseInt(left.strip());
            value = HEX.parseHex(hex);
        } catch (IllegalArgumentException e) {
            throw new UsageError("--expect-pcr " + spec + ": expected [ALGO:]N=HEX");
        }
        if (pcr < 0 || pcr > 23) {
            throw new UsageError("--expect-pcr " + spec + ": PCR index out of range 0-23");
        }
        if (bank == null) {
            bank = switch (value.length) {
                case 20 -> HashAlgo.SHA1;
                case 32 -> HashAlgo.SHA256;
                default -> throw new UsageError("--expect-pcr " + spec + ": " + value.length
                        + " bytes is neither sha1 nor sha256; name the bank as ALGO:N=HEX");
            };
        }
        if (value.length != bank.digestSize()) {
            throw new UsageError("--expect-pcr " + spec + ": " + bank + " values are " + bank.digestSize() + " bytes");
        }
        return new Expectation("--expect-pcr", bank, pcr, value, false);
    }

    private static HashAlgo bank(String name) throws UsageError {
        try {
            return new BankConverter().convert(name);
        } catch (RuntimeException e) {
            throw new UsageError(e.getMessage());
        }
    }
}
