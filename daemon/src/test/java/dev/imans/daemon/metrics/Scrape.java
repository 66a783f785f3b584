package dev.imans.daemon.metrics;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A strict reader of the Prometheus text format (0.0.4), for tests: every sample must belong to a family
 * announced before it by exactly one HELP and one TYPE line, names and labels must be well formed, and
 * no sample may repeat. Samples are keyed as {@code name{l1="v1",l2="v2"}} in the order written.
 */
public final class Scrape {
    private static final Pattern NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Pattern SAMPLE = Pattern.compile(
            "([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)\\})? (\\S+)");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");
    private static final Set<String> TYPES = Set.of("counter", "gauge", "histogram", "summary", "untyped");

    private final Map<String, Double> samples = new LinkedHashMap<>();
    private final Map<String, String> types = new HashMap<>();
    private final Map<String, String> help = new HashMap<>();

    private Scrape() {}

    public static Scrape parse(String text) {
        if (!text.endsWith("\n")) {
            throw new AssertionError("exposition must end with a newline");
        }
        Scrape s = new Scrape();
        String family = null;
        for (String line : text.split("\n")) {
            if (line.startsWith("# HELP ")) {
                String[] p = line.substring(7).split(" ", 2);
                check(NAME.matcher(p[0]).matches() && p.length == 2 && !p[1].isBlank(), line);
                check(s.help.put(p[0], p[1]) == null, "second HELP: " + line);
                family = p[0];
                continue;
            }
            if (line.startsWith("# TYPE ")) {
                String[] p = line.substring(7).split(" ");
                check(p.length == 2 && p[0].equals(family) && TYPES.contains(p[1]), "TYPE without its HELP: " + line);
                check(s.types.put(p[0], p[1]) == null, "second TYPE: " + line);
                continue;
            }
            check(!line.startsWith("#") && !line.isEmpty(), "unexpected line: '" + line + "'");
            Matcher m = SAMPLE.matcher(line);
            check(m.matches(), "not a sample: " + line);
            String name = m.group(1);
            String base = "histogram".equals(s.types.get(family))
                    ? name.replaceFirst("_(bucket|sum|count)$", "") : name;
            check(base.equals(family) && s.types.containsKey(family), "sample outside its family: " + line);
            StringBuilder key = new StringBuilder(name);
            if (m.group(3) != null) {
                Matcher l = LABEL.matcher(m.group(3));
                int at = 0;
                key.append('{');
                while (l.find() && l.start() == at) {
                    key.append(at == 0 ? "" : ",").append(l.group());
                    at = l.end();
                    if (at < m.group(3).length()) {
                        check(m.group(3).charAt(at) == ',', "bad label list: " + line);
                        at++;
                    }
                }
                check(at == m.group(3).length(), "bad labels: " + line);
                key.append('}');
            }
            double v = switch (m.group(4)) {
                case "+Inf" -> Double.POSITIVE_INFINITY;
                case "-Inf" -> Double.NEGATIVE_INFINITY;
                case "NaN" -> Double.NaN;
                default -> Double.parseDouble(m.group(4));
            };
            check(s.samples.put(key.toString(), v) == null, "repeated sample: " + line);
        }
        return s;
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }

    /** The value of sample {@code key} ({@code name} or {@code name{l="v"}}); fails when absent. */
    public double value(String key) {
        Double v = samples.get(key);
        if (v == null) {
            throw new AssertionError("no sample " + key + " in " + samples.keySet());
        }
        return v;
    }

    public long count(String key) {
        return (long) value(key);
    }

    public boolean has(String key) {
        return samples.containsKey(key);
    }

    public String type(String family) {
        return types.get(family);
    }

    public String help(String family) {
        return help.get(family);
    }

    public Map<String, Double> samples() {
        return samples;
    }
}
