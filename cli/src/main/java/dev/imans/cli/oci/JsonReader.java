package dev.imans.cli.oci;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A strict RFC 8259 JSON reader: one value, UTF-8 only, no comments, no trailing commas, no
 * duplicate member names, no control characters in strings, no lone surrogates, nesting at most
 * {@value #MAX_DEPTH} deep. It exists because the OCI hook must read the runtime's state document
 * and the CLI takes no JSON library; strictness means a malformed state stops the hook rather than
 * being half understood.
 */
public final class JsonReader {
    static final int MAX_DEPTH = 64;

    private final String text;
    private int pos;

    private JsonReader(String text) {
        this.text = text;
    }

    /** Parses UTF-8 bytes (a leading byte order mark is refused, as RFC 8259 allows). */
    public static JsonValue parse(byte[] utf8) throws JsonException {
        String s;
        try {
            s = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(utf8)).toString();
        } catch (CharacterCodingException e) {
            throw new JsonException("not UTF-8 text");
        }
        return parse(s);
    }

    /** Parses one JSON text; anything but whitespace after the value is an error. */
    public static JsonValue parse(String text) throws JsonException {
        JsonReader r = new JsonReader(text);
        r.skipWhitespace();
        JsonValue v = r.value(0);
        r.skipWhitespace();
        if (r.pos < text.length()) {
            throw r.error("unexpected " + r.describe() + " after the value");
        }
        return v;
    }

    private JsonValue value(int depth) throws JsonException {
        if (pos >= text.length()) {
            throw error("unexpected end of input, expected a value");
        }
        char c = text.charAt(pos);
        return switch (c) {
            case '{' -> object(depth + 1);
            case '[' -> array(depth + 1);
            case '"' -> new JsonValue.JsonString(string());
            case 't' -> literal("true", new JsonValue.JsonBoolean(true));
            case 'f' -> literal("false", new JsonValue.JsonBoolean(false));
            case 'n' -> literal("null", new JsonValue.JsonNull());
            default -> {
                if (c == '-' || (c >= '0' && c <= '9')) {
                    yield number();
                }
                throw error("unexpected " + describe() + ", expected a value");
            }
        };
    }

    private JsonValue object(int depth) throws JsonException {
        checkDepth(depth);
        pos++;
        Map<String, JsonValue> members = new LinkedHashMap<>();
        skipWhitespace();
        if (peek('}')) {
            pos++;
            return new JsonValue.JsonObject(members);
        }
        while (true) {
            skipWhitespace();
            if (!peek('"')) {
                throw error("unexpected " + describe() + ", expected a member name");
            }
            int at = pos;
            String name = string();
            if (members.containsKey(name)) {
                pos = at;
                throw error("duplicate member \"" + name + "\"");
            }
            skipWhitespace();
            expect(':');
            skipWhitespace();
            members.put(name, value(depth));
            skipWhitespace();
            if (peek(',')) {
                pos++;
                continue;
            }
            expect('}');
            return new JsonValue.JsonObject(members);
        }
    }

    private JsonValue array(int depth) throws JsonException {
        checkDepth(depth);
        pos++;
        List<JsonValue> elements = new ArrayList<>();
        skipWhitespace();
        if (peek(']')) {
            pos++;
            return new JsonValue.JsonArray(elements);
        }
        while (true) {
            skipWhitespace();
            elements.add(value(depth));
            skipWhitespace();
            if (peek(',')) {
                pos++;
                continue;
            }
            expect(']');
            return new JsonValue.JsonArray(elements);
        }
    }

    private String string() throws JsonException {
        pos++;
        StringBuilder sb = new StringBuilder();
        while (true) {
            if (pos >= text.length()) {
                throw error("unterminated string");
            }
            char c = text.charAt(pos);
            if (c == '"') {
                pos++;
                return sb.toString();
            }
            if (c < 0x20) {
                throw error("control character U+" + String.format("%04X", (int) c) + " in a string (must be escaped)");
            }
            if (Character.isSurrogate(c)) {
                // Text decoded from UTF-8 holds only pairs; a String given directly may not.
                if (!Character.isHighSurrogate(c) || pos + 1 >= text.length()
                        || !Character.isLowSurrogate(text.charAt(pos + 1))) {
                    throw error("lone surrogate U+" + String.format("%04X", (int) c));
                }
                sb.append(c).append(text.charAt(pos + 1));
                pos += 2;
                continue;
            }
            if (c != '\\') {
                sb.append(c);
                pos++;
                continue;
            }
            pos++;
            if (pos >= text.length()) {
                throw error("unterminated string");
            }
            char e = text.charAt(pos);
            switch (e) {
                case '"', '\\', '/' -> sb.append(e);
                case 'b' -> sb.append('\b');
                case 'f' -> sb.append('\f');
                case 'n' -> sb.append('\n');
                case 'r' -> sb.append('\r');
                case 't' -> sb.append('\t');
                case 'u' -> {
                    pos++;
                    char u = hex4();
                    if (Character.isHighSurrogate(u)) {
                        if (!text.startsWith("\\u", pos)) {
                            throw error("lone surrogate \\u" + String.format("%04x", (int) u));
                        }
                        pos += 2;
                        char low = hex4();
                        if (!Character.isLowSurrogate(low)) {
                            throw error("lone surrogate \\u" + String.format("%04x", (int) u));
                        }
                        sb.append(u).append(low);
                    } else if (Character.isLowSurrogate(u)) {
                        throw error("lone surrogate \\u" + String.format("%04x", (int) u));
                    } else {
                        sb.append(u);
                    }
                    continue;
                }
                default -> throw error("invalid escape \\" + printable(e));
            }
            pos++;
        }
    }

    private char hex4() throws JsonException {
        if (pos + 4 > text.length()) {
            throw error("truncated \\u escape");
        }
        int v = 0;
        for (int i = 0; i < 4; i++) {
            int d = Character.digit(text.charAt(pos + i), 16);
            if (d < 0 || text.charAt(pos + i) > 'f') {
                throw error("invalid \\u escape");
            }
            v = v * 16 + d;
        }
        pos += 4;
        return (char) v;
    }

    private JsonValue number() throws JsonException {
        int start = pos;
        if (peek('-')) {
            pos++;
        }
        if (peek('0')) {
            pos++;
        } else if (digitAhead()) {
            digits();
        } else {
            throw error("invalid number");
        }
        if (peek('.')) {
            pos++;
            if (!digitAhead()) {
                throw error("invalid number: digits must follow '.'");
            }
            digits();
        }
        if (peek('e') || peek('E')) {
            pos++;
            if (peek('+') || peek('-')) {
                pos++;
            }
            if (!digitAhead()) {
                throw error("invalid number: digits must follow the exponent");
            }
            digits();
        }
        if (digitAhead()) {
            throw error("invalid number: leading zero");
        }
        return new JsonValue.JsonNumber(text.substring(start, pos));
    }

    private void digits() {
        while (digitAhead()) {
            pos++;
        }
    }

    private boolean digitAhead() {
        return pos < text.length() && text.charAt(pos) >= '0' && text.charAt(pos) <= '9';
    }

    private JsonValue literal(String word, JsonValue v) throws JsonException {
        if (!text.startsWith(word, pos)) {
            throw error("unexpected " + describe() + ", expected a value");
        }
        pos += word.length();
        return v;
    }

    private void checkDepth(int depth) throws JsonException {
        if (depth > MAX_DEPTH) {
            throw error("nested deeper than " + MAX_DEPTH + " levels");
        }
    }

    private boolean peek(char c) {
        return pos < text.length() && text.charAt(pos) == c;
    }

    private void expect(char c) throws JsonException {
        if (!peek(c)) {
            throw error("unexpected " + describe() + ", expected '" + c + "'");
        }
        pos++;
    }

    private void skipWhitespace() {
        while (pos < text.length()) {
            char c = text.charAt(pos);
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                return;
            }
            pos++;
        }
    }

    private String describe() {
        return pos >= text.length() ? "end of input" : "'" + printable(text.charAt(pos)) + "'";
    }

    private static String printable(char c) {
        return c >= 0x20 && c < 0x7f ? String.valueOf(c) : String.format("U+%04X", (int) c);
    }

    private JsonException error(String what) {
        int line = 1;
        int col = 1;
        for (int i = 0; i < pos && i < text.length(); i++) {
            if (text.charAt(i) == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        return new JsonException("line " + line + ", column " + col + ": " + what);
    }
}
