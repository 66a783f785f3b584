package dev.imans.cli;

import dev.imans.crypto.Hex;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Prints attribute values the way {@code getfattr --absolute-names -e hex} does, so the two can be
 * compared line for line and users can paste a value into {@code setfattr -v}:
 *
 * <pre>
 * # file: PATH
 * security.ima=0x0404...
 * (blank line)
 * </pre>
 *
 * Like getfattr, control characters, bytes above 0x7e and backslashes in the path are written as
 * {@code \ooo} octal escapes.
 */
final class XattrText {
    private XattrText() {}

    static String block(Path path, String name, byte[] value) {
        return "# file: " + escape(path.toString()) + "\n" + name + "=0x" + Hex.of(value) + "\n\n";
    }

    static String escape(String path) {
        StringBuilder b = new StringBuilder();
        for (byte x : path.getBytes(StandardCharsets.UTF_8)) {
            int c = x & 0xff;
            if (c < 0x20 || c > 0x7e || c == '\\') {
                b.append('\\').append((char) ('0' + ((c >> 6) & 7))).append((char) ('0' + ((c >> 3) & 7)))
                        .append((char) ('0' + (c & 7)));
            } else {
                b.append((char) c);
            }
        }
        return b.toString();
    }
}
