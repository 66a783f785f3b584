package dev.imans.tpm;

import dev.imans.measure.MeasurementEntry;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks measurement lists against an anchor log: every record names an entry that its scope's list
 * holds, with the digests that entry gives; every entry of every list is recorded exactly once. With
 * that, the log's {@link #replay} is what the anchor PCR must hold, so a TPM quote of that PCR vouches
 * for every entry of every list.
 */
public final class AnchorCheck {
    private AnchorCheck() {}

    /**
     * What the check found.
     *
     * @param records   the log's records
     * @param entries   entries of the lists given, per scope
     * @param problems  one line per discrepancy; empty when the lists and the log agree
     * @param replay    the PCR values the log gives, per bank
     */
    public record Report(int records, Map<String, Integer> entries, List<String> problems,
                         Map<TpmAlg, byte[]> replay) {
        public boolean consistent() {
            return problems.isEmpty();
        }
    }

    /**
     * @param log   the anchor log
     * @param lists each scope's list entries: every scope the log names must be here, and every list
     *              here must be recorded whole
     */
    public static Report check(AnchorLog.Parsed log, Map<String, List<MeasurementEntry>> lists) {
        List<TpmAlg> banks = log.header().banks();
        List<String> problems = new ArrayList<>();
        Map<String, BitSet> seen = new HashMap<>();
        AnchorLog.Replay replay = new AnchorLog.Replay(banks);
        for (AnchorLog.Record r : log.records()) {
            replay.extend(r);
            List<MeasurementEntry> list = lists.get(r.scope());
            if (list == null) {
                problems.add(r + ": the log records it, but there is no list of " + r.scope());
                continue;
            }
            if (r.index() >= list.size()) {
                problems.add(r + ": the log records it, but the list of " + r.scope() + " has only "
                        + list.size() + " entries");
                continue;
            }
            BitSet s = seen.computeIfAbsent(r.scope(), k -> new BitSet());
            int i = (int) r.index();
            if (s.get(i)) {
                problems.add(r + ": recorded more than once");
                continue;
            }
            s.set(i);
            MeasurementEntry e = list.get(i);
            if (!AnchorLog.Record.of(r.scope(), r.index(), e, banks).equals(r)) {
                problems.add(r + " (" + e.eventName() + "): its digests in the list differ from those the TPM"
                        + " was extended with");
            }
        }
        Map<String, Integer> sizes = new LinkedHashMap<>();
        lists.forEach((scope, list) -> {
            sizes.put(scope, list.size());
            BitSet s = seen.getOrDefault(scope, new BitSet());
            int missing = list.size() - s.cardinality();
            if (missing > 0) {
                int first = s.nextClearBit(0);
                problems.add(scope + ": " + missing + " entr" + (missing == 1 ? "y" : "ies")
                        + " of its list not in the anchor log (first: entry " + first + ", "
                        + list.get(first).eventName() + ")");
            }
        });
        return new Report(log.records().size(), sizes, List.copyOf(problems), replay.values());
    }
}
