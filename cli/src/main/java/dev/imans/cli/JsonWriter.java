package dev.imans.cli;

import dev.imans.cli.oci.JsonValue;
import java.util.Iterator;
import java.util.Map;

/**
 * Writes a {@link JsonValue} as RFC 8259 JSON: objects in their member order, two-space indent,
 * arrays of scalars on one line, strings escaped as the RFC requires (quote, backslash, controls)
 * and otherwise left as UTF-8. The CLI takes no JSON library; this is the writing half of
 * {@link dev.imans.cli.oci.JsonReader}.
 */
final class JsonWriter {
    private final StringBuilder out = new StringBuilder();

    private JsonWriter() {}

    static String write(JsonValue v) {
        JsonWriter w = new JsonWriter();
        w.value(v, 0);
        return w.out.append('\n').toString();
    }

    /** One line, {@code ", "} and {@code ": "} between items, as Python's {@code json.dumps} writes. */
    static String writeCompact(JsonValue v) {
        JsonWriter w = new JsonWriter();
        w.compact = true;
        w.value(v, 0);
        return w.out.toString();
    }

    private boolean compact;

    private void value(JsonValue v, int depth) {
        switch (v) {
            case JsonValue.JsonObject o -> object(o.members(), depth);
            case JsonValue.JsonArray a -> {
                boolean flat = compact || a.elements().stream().noneMatch(e -> e instanceof JsonValue.JsonObject
                        || e instanceof JsonValue.JsonArray);
                out.append('[');
                for (int i = 0; i < a.elements().size(); i++) {
                    if (i > 0) {
                        out.append(',');
                    }
                    if (flat) {
                        out.append(i > 0 ? " " : "");
                    } else {
                        newline(depth + 1);
                    }
                    value(a.elements().get(i), depth + 1);
                }
                if (!flat && !a.elements().isEmpty()) {
                    newline(depth);
                }
                out.append(']');
            }
            case JsonValue.JsonString s -> string(s.value());
            case JsonValue.JsonNumber n -> out.append(n.literal());
            case JsonValue.JsonBoolean b -> out.append(b.value());
            case JsonValue.JsonNull n -> out.append("null");
        }
    }

    private void object(Map<String, JsonValue> members, int depth) {
        out.append('{');
        Iterator<Map.Entry<String, JsonValue>> it = members.entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<String, JsonValue> e = it.next();
            newline(depth + 1);
            string(e.getKey());
            out.append(": ");
            value(e.getValue(), depth + 1);
            if (it.hasNext()) {
                out.append(compact ? ", " : ",");
            }
        }
        if (!members.isEmpty()) {
            newline(depth);
        }
        out.append('}');
    }

    private void newline(int depth) {
        if (compact) {
            return;
        }
        out.append('\n').append("  ".repeat(depth));
    }

    private void string(String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    // Lone surrogates cannot be UTF-8: escaped, they stay valid JSON text.
                    boolean lone = Character.isSurrogate(c) && !(Character.isHighSurrogate(c) && i + 1 < s.length()
                            && Character.isLowSurrogate(s.charAt(i + 1)))
                            && !(Character.isLowSurrogate(c) && i > 0 && Character.isHighSurrogate(s.charAt(i - 1)));
                    if (c < 0x20 || c == 0x7f || lone) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
