package dev.imans.attest;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The two Python string operations Keylime's list parser rests on, with Python's exact semantics:
 * a line parsed differently from Keylime would give a different verdict.
 */
final class PyText {
    private PyText() {}

    /**
     * {@code s.split(sep, maxsplit)}: splits at every occurrence of the one-character separator
     * (empty pieces kept, runs not collapsed), at most {@code maxsplit} times.
     */
    static List<String> split(String s, char sep, int maxsplit) {
        List<String> out = new ArrayList<>();
        int from = 0;
        while (out.size() < maxsplit) {
            int at = s.indexOf(sep, from);
            if (at < 0) {
                break;
            }
            out.add(s.substring(from, at));
            from = at + 1;
        }
        out.add(s.substring(from));
        return out;
    }

    /**
     * {@code bytes.fromhex(s)}: pairs of hex digits (either case), ASCII whitespace allowed between
     * pairs but not inside one; empty if {@code s} is not such a string.
     */
    static Optional<byte[]> fromHex(String s) {
        byte[] buf = new byte[s.length() / 2];
        int n = 0;
        int i = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (isPyWhitespace(c)) {
                i++;
                continue;
            }
            if (i + 1 >= s.length()) {
                return Optional.empty();
            }
            int hi = Character.digit(c, 16);
            int lo = Character.digit(s.charAt(i + 1), 16);
            if (hi < 0 || lo < 0 || c > 'f' || s.charAt(i + 1) > 'f') {
                return Optional.empty();
            }
            buf[n++] = (byte) (hi << 4 | lo);
            i += 2;
        }
        return Optional.of(java.util.Arrays.copyOf(buf, n));
    }

    private static boolean isPyWhitespace(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0x0b || c == 0x0c;
    }
}
