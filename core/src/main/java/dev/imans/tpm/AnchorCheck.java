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
 * holds, with the digests that entry gives, once and in list order; every entry of every list is
 * recorded, but for those
 * at the end of a list after its last recorded one ({@link Report#unrecorded}), which a list read after
 * the log may hold (the daemon writes an entry to its list before its record). With that, the log's
 * {@link #replay} is what the anchor PCR must hold, so a TPM quote of that PCR vouches for every
 * recorded entry of every list.
 */
public final class AnchorCheck {
    private AnchorCheck() {}

    /** Entries at the end of a list with no record: from {@code first}, {@code count} of them. */
    public record Unrecorded(int first, int count, String firstName) {}

    /**
     * What the check found.
     *
     * @param records    the log's records
     * @param entries    entries of the lists given, per scope
     * @param problems   one line per discrepancy; empty when the lists and the log agree
     * @param unrecorded per scope, the entries at the end of its list that the log does not (yet) record
     * @param replay     the PCR values the log gives, per bank
     */
    public record Report(int records, Map<String, Integer> entries, List<String> problems,
                         Map<String, Unrecorded> unrecorded, Map<TpmAlg, byte[]> replay) {
        public boolean consistent() {
            return problems.isEmpty();
        }
    }

    /**
     * @param log   the anchor log
     * @param lists the list entries of each key of {@link AnchorLog#listKeys} (a scope's live list under
     *              the scope, an ended one under {@code scope@file}): every key the log names must be here
     */
    public static Report check(AnchorLog.Parsed log, Map<String, List<MeasurementEntry>> lists) {
        List<TpmAlg> banks = log.header().banks();
        List<String> problems = new ArrayList<>();
        Map<String, BitSet> seen = new HashMap<>();
        AnchorLog.Replay replay = new AnchorLog.Replay(banks);
        List<String> keys = AnchorLog.listKeys(log);
        for (int n = 0; n < log.records().size(); n++) {
            AnchorLog.Record r = log.records().get(n);
            String key = keys.get(n);
            replay.extend(r);
            List<MeasurementEntry> list = lists.get(key);
            if (list == null) {
                problems.add(r + ": the log records it, but there is no list " + key
                        + (key.endsWith("@" + AnchorLog.End.DROPPED) ? " (the namespace ended and its list was not kept)" : ""));
                continue;
            }
            if (r.index() >= list.size()) {
                problems.add(r + ": the log records it, but the list " + key + " has only "
                        + list.size() + " entries");
                continue;
            }
            BitSet s = seen.computeIfAbsent(key, k -> new BitSet());
            int i = (int) r.index();
            if (s.get(i)) {
                problems.add(r + ": recorded more than once");
                continue;
            }
            if (i != s.length()) {
                // The daemon records a scope's entries in list order: a record that skips one hides it.
                problems.add(r + ": recorded out of list order (the next entry of " + r.scope() + " to record is "
                        + s.length() + ")");
            }
            s.set(i);
            MeasurementEntry e = list.get(i);
            if (!AnchorLog.Record.of(r.scope(), r.index(), e, banks).equals(r)) {
                problems.add(r + " (" + e.eventName() + "): its digests in the list differ from those the TPM"
                        + " was extended with");
            }
        }
        Map<String, Integer> sizes = new LinkedHashMap<>();
        Map<String, Unrecorded> unrecorded = new LinkedHashMap<>();
        lists.forEach((scope, list) -> {
            sizes.put(scope, list.size());
            BitSet s = seen.getOrDefault(scope, new BitSet());
            int end = Math.min(s.length(), list.size());
            int gaps = end - s.cardinality();
            if (gaps > 0) {
                int first = s.nextClearBit(0);
                problems.add(scope + ": " + gaps + " entr" + (gaps == 1 ? "y" : "ies") + " of its list not in the"
                        + " anchor log, before recorded ones (first: entry " + first + ", "
                        + list.get(first).eventName() + ")");
            }
            if (list.size() > end) {
                unrecorded.put(scope, new Unrecorded(end, list.size() - end, list.get(end).eventName()));
            }
        });
        return new Report(log.records().size(), sizes, List.copyOf(problems), unrecorded, replay.values());
    }
}
