package dev.imans.policy;

/** Something accepted but not enforceable by imans: 1-based line and column of the token, and why. */
public record PolicyWarning(int line, int column, String message) {
    @Override
    public String toString() {
        return line + ":" + column + ": " + message;
    }
}
