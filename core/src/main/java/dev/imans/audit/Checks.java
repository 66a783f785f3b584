package dev.imans.audit;

/** Argument checks shared by the record types: the values must print as the kernel's formats. */
final class Checks {
    static final long U32_MAX = 0xffff_ffffL;

    private Checks() {
    }

    /** A {@code %u} field: 0..4294967295. */
    static long u32(String field, long value) {
        if (value < 0 || value > U32_MAX) {
            throw new IllegalArgumentException(field + " must be 0.." + U32_MAX + ", got " + value);
        }
        return value;
    }

    /**
     * Text the kernel writes bare or between quotes without escaping ({@code op}, {@code cause},
     * {@code subj}, {@code tty}): printable ASCII, single inner spaces, no {@code "} and no
     * {@code =} so the record stays parseable.
     */
    static String bareText(String field, String value) {
        if (value.isEmpty()) {
            throw new IllegalArgumentException(field + " must not be empty");
        }
        if (value.startsWith(" ") || value.endsWith(" ") || value.contains("  ")) {
            throw new IllegalArgumentException(field + " must not have leading, trailing or double spaces: '" + value + "'");
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < 0x20 || c > 0x7e || c == '"' || c == '=') {
                throw new IllegalArgumentException(field + " has a character the record cannot carry ("
                        + String.format("0x%02x", (int) c) + "): '" + value + "'");
            }
        }
        return value;
    }
}
