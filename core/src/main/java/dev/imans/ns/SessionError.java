package dev.imans.ns;

/**
 * Why a policy write session was rejected: the line (1-based, counted from the session's first
 * byte), the column (1-based, 0 when not about one spot) and the parser's reason.
 */
public record SessionError(int line, int column, String reason) {
    @Override
    public String toString() {
        if (line <= 0) {
            return reason;
        }
        return "line " + line + (column > 0 ? ", column " + column : "") + ": " + reason;
    }
}
