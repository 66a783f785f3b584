package dev.imans.crypto;

import java.util.HexFormat;

/** Lowercase hex as the kernel prints digests ({@code %*phN}) and {@code getfattr -e hex} shows values. */
public final class Hex {
    private static final HexFormat LOWER = HexFormat.of();

    private Hex() {}

    public static String of(byte[] bytes) {
        return LOWER.formatHex(bytes);
    }

    /**
     * Parses hex digits, with or without a {@code 0x} prefix, upper or lower case.
     *
     * @throws IllegalArgumentException naming the offending text when it is not an even run of hex digits
     */
    public static byte[] parse(String text) {
        String s = text.startsWith("0x") || text.startsWith("0X") ? text.substring(2) : text;
        if (s.length() % 2 != 0) {
            throw new IllegalArgumentException("odd number of hex digits in \"" + text + "\"");
        }
        try {
            return LOWER.parseHex(s);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("not hex: \"" + text + "\"", e);
        }
    }
}
