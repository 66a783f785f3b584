package dev.imans.policy;

/** One rejected rule: 1-based line, 1-based column of the offending token, and the reason in plain English. */
public record PolicyError(int line, int column, String reason) {
    @Override
    public String toString() {
        return line + ":" + column + ": " + reason;
    }
}
