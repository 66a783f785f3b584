package dev.imans.cli.oci;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The state of a container as the OCI runtime specification's {@code state} operation gives it,
 * and as a runtime writes it to a hook's standard input (runtime-spec {@code runtime.md}, "State").
 * Members the specification does not name are ignored, as it asks; the ones it names must have
 * their specified types.
 *
 * @param ociVersion the runtime specification version
 * @param id the container's id
 * @param status {@code creating}, {@code created}, {@code running}, {@code stopped} (or a runtime's own)
 * @param pid the container process's id as the hook's pid namespace sees it; absent once stopped
 * @param bundle the bundle directory
 * @param annotations the container's annotations
 */
public record OciState(String ociVersion, String id, String status, OptionalLong pid, String bundle,
                       Map<String, String> annotations) {
    public OciState {
        annotations = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(annotations));
    }

    /** Reads a state document. */
    public static OciState parse(byte[] json) throws JsonException {
        JsonValue v = JsonReader.parse(json);
        if (!(v instanceof JsonValue.JsonObject o)) {
            throw new JsonException("the state must be a JSON object, not " + v.typeName());
        }
        Map<String, JsonValue> m = o.members();
        OptionalLong pid = OptionalLong.empty();
        if (m.containsKey("pid")) {
            if (!(m.get("pid") instanceof JsonValue.JsonNumber n) || n.asLong().isEmpty()
                    || n.asLong().getAsLong() <= 0 || n.asLong().getAsLong() > Integer.MAX_VALUE) {
                throw new JsonException("\"pid\" must be a positive integer, not " + shown(m.get("pid")));
            }
            pid = n.asLong();
        }
        Map<String, String> annotations = new LinkedHashMap<>();
        if (m.containsKey("annotations")) {
            if (!(m.get("annotations") instanceof JsonValue.JsonObject a)) {
                throw new JsonException("\"annotations\" must be an object, not " + m.get("annotations").typeName());
            }
            for (var e : a.members().entrySet()) {
                if (!(e.getValue() instanceof JsonValue.JsonString s)) {
                    throw new JsonException("annotation \"" + e.getKey() + "\" must be a string, not "
                            + e.getValue().typeName());
                }
                annotations.put(e.getKey(), s.value());
            }
        }
        return new OciState(required(m, "ociVersion"), required(m, "id"), required(m, "status"), pid,
                required(m, "bundle"), annotations);
    }

    /** The annotation named {@code key}, if set. */
    public Optional<String> annotation(String key) {
        return Optional.ofNullable(annotations.get(key));
    }

    private static String required(Map<String, JsonValue> m, String key) throws JsonException {
        JsonValue v = m.get(key);
        if (v == null) {
            throw new JsonException("\"" + key + "\" is missing");
        }
        if (!(v instanceof JsonValue.JsonString s)) {
            throw new JsonException("\"" + key + "\" must be a string, not " + v.typeName());
        }
        return s.value();
    }

    private static String shown(JsonValue v) {
        return v instanceof JsonValue.JsonNumber n ? n.literal() : v.typeName();
    }
}
