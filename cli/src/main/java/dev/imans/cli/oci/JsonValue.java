package dev.imans.cli.oci;

import java.util.List;
import java.util.Map;

/** A JSON value as RFC 8259 defines it; objects keep their members in document order. */
public sealed interface JsonValue {
    /** The JSON type name, for messages ({@code object}, {@code string}, ...). */
    String typeName();

    /** {@code {...}}: member names are unique (the reader rejects duplicates). */
    record JsonObject(Map<String, JsonValue> members) implements JsonValue {
        public JsonObject {
            members = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(members));
        }

        @Override
        public String typeName() {
            return "object";
        }
    }

    /** {@code [...]}. */
    record JsonArray(List<JsonValue> elements) implements JsonValue {
        public JsonArray {
            elements = List.copyOf(elements);
        }

        @Override
        public String typeName() {
            return "array";
        }
    }

    /** A string, escapes resolved. */
    record JsonString(String value) implements JsonValue {
        @Override
        public String typeName() {
            return "string";
        }
    }

    /** A number, kept as its literal text so no precision is lost before the caller picks a type. */
    record JsonNumber(String literal) implements JsonValue {
        @Override
        public String typeName() {
            return "number";
        }

        /** The value if the literal is an integer (no fraction, no exponent) that fits a {@code long}. */
        public java.util.OptionalLong asLong() {
            if (literal.indexOf('.') >= 0 || literal.indexOf('e') >= 0 || literal.indexOf('E') >= 0) {
                return java.util.OptionalLong.empty();
            }
            try {
                return java.util.OptionalLong.of(Long.parseLong(literal));
            } catch (NumberFormatException e) {
                return java.util.OptionalLong.empty();
            }
        }
    }

    /** {@code true} or {@code false}. */
    record JsonBoolean(boolean value) implements JsonValue {
        @Override
        public String typeName() {
            return "boolean";
        }
    }

    /** {@code null}. */
    record JsonNull() implements JsonValue {
        @Override
        public String typeName() {
            return "null";
        }
    }
}
