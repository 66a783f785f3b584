package dev.imans.cli;

import dev.imans.policy.Func;
import java.io.PrintWriter;
import java.util.EnumMap;
import java.util.Map;
import java.util.TreeMap;

/** The counts {@code imans check} ends with: decisions allowed, and refused by cause, per hook. */
final class CheckSummary {
    private final Map<Func, long[]> allowed = new EnumMap<>(Func.class);
    private final Map<Func, Map<String, Long>> refused = new EnumMap<>(Func.class);

    void allowed(Func func) {
        allowed.computeIfAbsent(func, f -> new long[1])[0]++;
    }

    void refused(Func func, String cause) {
        refused.computeIfAbsent(func, f -> new TreeMap<>()).merge(cause, 1L, Long::sum);
    }

    void print(PrintWriter out) {
        out.println("summary:");
        for (Func func : new Func[] {Func.FILE_CHECK, Func.BPRM_CHECK}) {
            long ok = allowed.getOrDefault(func, new long[1])[0];
            Map<String, Long> causes = refused.getOrDefault(func, Map.of());
            long no = causes.values().stream().mapToLong(Long::longValue).sum();
            if (ok + no == 0) {
                continue;
            }
            out.println("  " + func + ": " + (ok + no) + " judged, " + ok + " allowed, " + no + " refused");
            causes.forEach((cause, n) -> out.println("    " + cause + ": " + n));
        }
    }
}
