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
     * Reads, in this order, the PCR (when {@code tpm} is given), the log and the lists: as the daemon
     * writes a list entry, then its record, then extends, each read holds at least what the one before
     * vouches for, so a daemon running meanwhile adds only records after the PCR's and entries after the log's.
     *
     * @param allowNewer accept records after the PCR value and list entries after the log (made while the
     *                   evidence was gathered), reported as not attested; without it everything must match
     * @return the exit code: 0 the lists and the log agree and the PCR holds the replay, 1 they do not,
     *     2 usage or I/O
     */
    static int run(Path state, Optional<String> tpm, Optional<Integer> tpmPcr, List<Expected> given, boolean allowNewer,
                   PrintStream out, PrintStream err) {
        if (tpm.isEmpty() && given.isEmpty()) {
            err.println("imans measurements verify: --anchor needs the PCR to compare with: --tpm DEVICE (read now)"
                    + " or --pcr-value ALGO:HEX (e.g. from tpm2_quote)");
            return MeasurementsCommand.EXIT_USAGE;
        }
        Path logFile = state.resolve("measurements").resolve(AnchorLog.FILE);
        List<Expected> expected = new ArrayList<>(given);
        AnchorLog.Parsed log;
        try {
            log = AnchorLog.parse(Files.readAllBytes(logFile));
            if (tpm.isPresent()) {
                try {
                    TpmClient client = new TpmClient(TpmTransport.parse(tpm.get()));
                    client.read(log.header().pcr(), log.header().banks())
                            .forEach((a, v) -> expected.add(new Expected("TPM " + tpm.get(), a, v)));
                } catch (IOException | IllegalArgumentException e) {
                    err.println("imans measurements verify: cannot read PCR " + log.header().pcr() + " of TPM "
                            + tpm.get() + ": " + e.getMessage());
                    return MeasurementsCommand.EXIT_USAGE;
                }
                // Read again after the PCR: every record the PCR holds is in this read.
                log = AnchorLog.parse(Files.readAllBytes(logFile));
            }
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
        int n = log.records().size();
        out.println(logFile + ": PCR " + pcr + ", banks " + String.join(",", log.header().banks().stream()
                .map(a -> a.hash().kernelName()).toList()) + ", epoch of boot " + log.header().bootId() + ", "
                + n + " records" + (log.torn() ? " (and a torn last line, never extended)" : ""));
        boolean ok = true;
        Map<String, List<MeasurementEntry>> lists = new LinkedHashMap<>();
        try {
            ok &= loadLists(state, log, lists, out);
        } catch (IOException e) {
            err.println("imans measurements verify: " + state + ": " + ListFile.reason(e));
            return MeasurementsCommand.EXIT_USAGE;
        }
        AnchorCheck.Report report = AnchorCheck.check(log, lists);
        report.entries().forEach((scope, count) -> out.println("list " + scope + ": " + count + " entries"));
        for (String p : report.problems()) {
            ok = false;
            out.println(p);
        }
        for (Map.Entry<String, AnchorCheck.Unrecorded> u : report.unrecorded().entrySet()) {
            AnchorCheck.Unrecorded x = u.getValue();
            String what = u.getKey() + ": " + x.count() + " entr" + (x.count() == 1 ? "y" : "ies") + " at the end of its"
                    + " list not in the anchor log (from entry " + x.first() + ", " + x.firstName() + ")";
            if (allowNewer) {
                out.println(what + ": not attested (listed after the log was read)");
            } else {
                ok = false;
                out.println(what + "; --allow-newer accepts entries listed while the evidence was read");
            }
        }
        report.replay().forEach((a, v) -> out.printf("PCR-%02d %s replay: %s%n", pcr, a.hash().kernelName(), HEX.formatHex(v)));
        for (Expected x : expected) {
            String what = String.format("PCR-%02d %s (%s)", pcr, x.bank().hash().kernelName(), x.source());
            if (!log.header().banks().contains(x.bank())) {
                ok = false;
                out.println(what + ": the anchor log does not extend this bank");
                continue;
            }
            Optional<Integer> k = AnchorLog.matchingPrefix(log.header().banks(), log.records(), x.bank(), x.value());
            if (k.isPresent() && k.get() == n) {
                out.println(what + ": matches");
            } else if (k.isPresent() && allowNewer) {
                out.println(what + ": matches the first " + k.get() + " of " + n + " records; the last " + (n - k.get())
                        + " were recorded after it (not attested by it)");
            } else if (k.isPresent()) {
                ok = false;
                out.println(what + ": holds the replay of the first " + k.get() + " of " + n + " records only;"
                        + " --allow-newer accepts records made after the value was read or quoted");
            } else {
                ok = false;
                out.println(what + ": MISMATCH, it holds " + HEX.formatHex(x.value()));
            }
        }
        out.println(ok ? "OK: every entry of every list is in the anchor log once, and the PCR holds its replay"
                + (allowNewer ? " (but for what is said not attested above)" : "") : "FAILED");
        out.flush();
        return ok ? MeasurementsCommand.EXIT_OK : MeasurementsCommand.EXIT_FAIL;
    }

    /**
     * Reads the list of every key of {@link AnchorLog#listKeys} (a live list, or the archived one an
     * {@code end} line names; for a scope whose list is gone without one, the newest archived list of
     * that scope) and every live list; false when one is damaged (said on {@code out}).
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
        for (String key : new java.util.LinkedHashSet<>(AnchorLog.listKeys(log))) {
            int at = key.indexOf('@');
            if (at >= 0) {
                String file = key.substring(at + 1);
                if (!file.equals(AnchorLog.End.DROPPED)) {
                    files.put(key, dir.resolve("archive").resolve(file));
                }
            } else if (!files.containsKey(key) && !key.equals("host")) {
                long id = Long.parseLong(key);
                archived.stream().filter(a -> a.nsid() == id).reduce((a, b) -> b)
                        .ifPresent(a -> files.put(key, a.file()));
            }
        }
        for (Map.Entry<String, Path> f : files.entrySet()) {
            try {
                lists.put(f.getKey(), MeasurementListCodec.open(Files.readAllBytes(f.getValue())).list().snapshot().entries());
            } catch (java.nio.file.NoSuchFileException e) {
                ok = false;
                out.println(f.getValue() + ": no such list (pruned from the archive?)");
            } catch (ListFormatException e) {
                ok = false;
                out.println(f.getValue() + ": damaged list: " + e.getMessage());
            }
        }
        return ok;
    }
}
