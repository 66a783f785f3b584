package dev.imans.policy;

import java.util.Map;

/**
 * Where a rule came from: its 1-based line and the 1-based column of each token, keyed by
 * {@link Token#key()} ({@code "func"}, {@code "euid"}, ...; the action under {@code "action"}).
 * A key written twice keeps its last column, which is the occurrence the kernel keeps.
 */
public record Origin(int line, int firstColumn, Map<String, Integer> columns) {
    /** Key under which the action token's column is stored. */
    public static final String ACTION = "action";

    public Origin {
        columns = Map.copyOf(columns);
    }

    /** The column of the token with this key, or of the rule's first token if it has none. */
    public int column(String key) {
        return columns.getOrDefault(key, firstColumn);
    }

    public boolean has(String key) {
        return columns.containsKey(key);
    }
}
