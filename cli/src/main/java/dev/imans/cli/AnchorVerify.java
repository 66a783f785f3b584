package dev.imans.cli;

import dev.imans.crypto.HashAlgo;
import dev.imans.daemon.measure.ArchivedList;
import dev.imans.measure.ListFormatException;
import dev.imans.measure.MeasurementEntry;
import dev.imans.measure.MeasurementListCodec;
import dev.imans.tpm.AnchorCheck;
import dev.imans.tpm.AnchorLog;
import dev.imans.tpm.TpmAlg;
import dev.imans.tpm.TpmClient;
import dev.imans.tpm.TpmTransport;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code imans measurements verify --anchor STATE}: replays the daemon's TPM anchor log, checks every
 * list (live and, for scopes the log names that ended, archived) against it, and compares the replay with
 * the anchor PCR, read from the TPM or given (a quote's PCR value).
 */
final class AnchorVerify {
    private static final HexFormat HEX = HexFormat.of();
    private static final String LIST_SUFFIX = ".list";

    /** A PCR value to compare with, and where it came from. */
    record Expected(String source, TpmAlg bank, byte[] value) {}

    private AnchorVerify() {}

    /** Parses {@code ALGO:HEX}. */
    static Expected pcrValue(String spec) {
        int colon = spec.indexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("--pcr-value " + spec + ": expected ALGO:HEX (e.g. sha256:ab12...)");
        }
        HashAlgo h = new BankConverter().convert(spec.substring(0, colon));
        TpmAlg a = TpmAlg.of(h).orElseThrow(() -> new IllegalArgumentException("--pcr-value " + spec + ": "
                + h + " is not a TPM bank"));
        String hex = spec.substring(colon + 1).strip().toLowerCase(java.util.Locale.ROOT);
        if (hex.startsWith("0x")) {
            hex = hex.substring(2);
        }
        byte[] v;
        try {
            v = HEX.parseHex(hex);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--pcr-value " + spec + ": not hex");
        }
        if (v.length != h.digestSize()) {
            throw new IllegalArgumentException("--pcr-value " + spec + ": " + h + " values are " + h.digestSize() + " bytes");
        }
        return new Expected("--pcr-value", a, v);
    }

    /**
     * @return the exit code: 0 the lists and the log agree and the PCR holds the replay, 1 they do not,
     *     2 usage or I/O
     */
    static int run(Path state, Optional<String> tpm, Optional<Integer> tpmPcr, List<Expected> given, PrintStream out,
                   PrintStream err) {
        if (tpm.isEmpty() && given.isEmpty()) {
            err.println("imans measurements verify: --anchor needs the PCR to compare with: --tpm DEVICE (read now)"
                    + " or --pcr-value ALGO:HEX (e.g. from tpm2_quote)");
            return MeasurementsCommand.EXIT_USAGE;
        }
        Path logFile = state.resolve("measurements").resolve(AnchorLog.FILE);
        AnchorLog.Parsed log;
        try {
            log = AnchorLog.parse(Files.readAllBytes(logFile));
        } catch (IOException e) {
            err.println("imans measurements verify: " + logFile + ": " + ListFile.reason(e));
            return MeasurementsCommand.EXIT_USAGE;
        } catch (AnchorLog.FormatException e) {
            out.println(logFile + ": " + e.getMessage());
            out.println("FAILED");
            return MeasurementsCommand.EXIT_FAIL;
        }
        int pcr = log.header().pcr();
        if (tpmPcr.isPresent() && tpmPcr.get() != pcr) {
            out.println(logFile + " anchors in PCR " + pcr + ", not PCR " + tpmPcr.get());
            out.println("FAILED");
            return MeasurementsCommand.EXIT_FAIL;
        }
        out.println(logFile + ": PCR " + pcr + ", banks " + String.join(",", log.header().banks().stream()
                .map(a -> a.hash().kernelName()).toList()) + ", epoch of boot " + log.header().bootId() + ", "
                + log.records().size() + " records" + (log.torn() ? " (and a torn last line, never extended)" : ""));
        boolean ok = true;
        Map<String, List<MeasurementEntry>> lists = new LinkedHashMap<>();
        try {
            ok &= loadLists(state, log, lists, out);
        } catch (IOException e) {
            err.println("imans measurements verify: " + state + ": " + ListFile.reason(e));
            return MeasurementsCommand.EXIT_USAGE;
        }
        AnchorCheck.Report report = AnchorCheck.check(log, lists);
        report.entries().forEach((scope, n) -> out.println("list " + scope + ": " + n + " entries"));
        for (String p : report.problems()) {
            ok = false;
            out.println(p);
        }
        report.replay().forEach((a, v) -> out.printf("PCR-%02d %s replay: %s%n", pcr, a.hash().kernelName(), HEX.formatHex(v)));
        List<Expected> expected = new ArrayList<>(given);
        if (tpm.isPresent()) {
            try {
                TpmClient client = new TpmClient(TpmTransport.parse(tpm.get()));
                client.read(pcr, log.header().banks()).forEach((a, v) -> expected.add(new Expected("TPM " + tpm.get(), a, v)));
            } catch (IOException | IllegalArgumentException e) {
                err.println("imans measurements verify: cannot read PCR " + pcr + " of TPM " + tpm.get() + ": " + e.getMessage());
                return MeasurementsCommand.EXIT_USAGE;
            }
        }
        for (Expected x : expected) {
            byte[] replay = report.replay().get(x.bank());
            String what = String.format("PCR-%02d %s (%s)", pcr, x.bank().hash().kernelName(), x.source());
            if (replay == null) {
                ok = false;
                out.println(what + ": the anchor log does not extend this bank");
            } else if (Arrays.equals(replay, x.value())) {
                out.println(what + ": matches");
            } else {
                ok = false;
                out.println(what + ": MISMATCH, it holds " + HEX.formatHex(x.value()));
            }
        }
        out.println(ok ? "OK: every entry of every list is in the anchor log once, and the PCR holds its replay"
                : "FAILED");
        out.flush();
        return ok ? MeasurementsCommand.EXIT_OK : MeasurementsCommand.EXIT_FAIL;
    }

    /**
     * Reads the live lists, and the newest archived list of each scope the log names that has no live
     * one; false when one is damaged (said on {@code out}).
     */
    private static boolean loadLists(Path state, AnchorLog.Parsed log, Map<String, List<MeasurementEntry>> lists,
                                     PrintStream out) throws IOException {
        boolean ok = true;
        Map<String, Path> files = new LinkedHashMap<>();
        Path dir = state.resolve("measurements");
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, "*" + LIST_SUFFIX)) {
            List<Path> sorted = new ArrayList<>();
            s.forEach(sorted::add);
            sorted.sort(null);
            for (Path p : sorted) {
                String n = p.getFileName().toString();
                files.put(n.substring(0, n.length() - LIST_SUFFIX.length()), p);
            }
        }
        List<ArchivedList> archived = ArchivedList.in(state);
        for (AnchorLog.Record r : log.records()) {
            if (!files.containsKey(r.scope()) && !r.scope().equals("host")) {
                long id = Long.parseLong(r.scope());
                archived.stream().filter(a -> a.nsid() == id).reduce((a, b) -> b)
                        .ifPresent(a -> files.put(r.scope(), a.file()));
            }
        }
        for (Map.Entry<String, Path> f : files.entrySet()) {
            try {
                lists.put(f.getKey(), MeasurementListCodec.open(Files.readAllBytes(f.getValue())).list().snapshot().entries());
            } catch (ListFormatException e) {
                ok = false;
                out.println(f.getValue() + ": damaged list: " + e.getMessage());
            }
        }
        return ok;
    }
}
