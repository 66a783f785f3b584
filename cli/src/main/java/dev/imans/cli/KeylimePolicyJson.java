package dev.imans.cli;

import dev.imans.attest.RuntimePolicy;
import dev.imans.cli.oci.JsonException;
import dev.imans.cli.oci.JsonReader;
import dev.imans.cli.oci.JsonValue;
import dev.imans.cli.oci.JsonValue.JsonArray;
import dev.imans.cli.oci.JsonValue.JsonNull;
import dev.imans.cli.oci.JsonValue.JsonNumber;
import dev.imans.cli.oci.JsonValue.JsonObject;
import dev.imans.cli.oci.JsonValue.JsonString;
import dev.imans.crypto.KeyFiles;
import dev.imans.crypto.KeyId;
import dev.imans.crypto.VerificationKey;
import java.math.BigDecimal;
import java.util.Base64;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Keylime runtime policies as JSON. Reading applies the rules of Keylime's
 * {@code RUNTIME_POLICY_SCHEMA} and {@code IMA_KEYRING_JSON_SCHEMA} ({@code keylime/ima/ima.py},
 * {@code keylime/ima/file_signatures.py}, v7.14.3), which {@code validate_runtime_policy} applies
 * when a policy is added to the verifier, so a policy read here is one Keylime accepts. Unknown
 * members are allowed where the schema allows them (it sets no {@code additionalProperties}).
 * The reader is stricter than Python's {@code json} in one way: duplicate member names are refused.
 */
final class KeylimePolicyJson {
    /** A policy that breaks the schema or is not JSON; the message names the member. */
    static final class Invalid extends Exception {
        Invalid(String message) {
            super(message);
        }
    }

    private KeylimePolicyJson() {}

    static RuntimePolicy read(byte[] json) throws Invalid {
        JsonValue root;
        try {
            root = JsonReader.parse(json);
        } catch (JsonException e) {
            throw new Invalid("not JSON: " + e.getMessage());
        }
        JsonObject top = object(root, "the policy");
        if (top.members().containsKey("payload")) {
            throw new Invalid("a DSSE envelope (signed policy): check its signature and pass the payload's policy");
        }
        for (String k : List.of("meta", "release", "digests", "excludes", "keyrings", "ima", "ima-buf",
                "verification-keys")) {
            require(top, k, "the policy");
        }
        JsonObject meta = object(top.members().get("meta"), "meta");
        require(meta, "version", "meta");
        require(meta, "generator", "meta");
        long version = integer(meta.members().get("version"), "meta.version", 0, Long.MAX_VALUE);
        long generator = integer(meta.members().get("generator"), "meta.generator", 0, RuntimePolicy.GENERATOR_MAX);
        Optional<String> timestamp = meta.members().containsKey("timestamp")
                ? Optional.of(string(meta.members().get("timestamp"), "meta.timestamp")) : Optional.empty();
        long release = integer(top.members().get("release"), "release", 0, Long.MAX_VALUE);
        Map<String, List<String>> digests = digests(top.members().get("digests"), "digests");
        List<String> excludes = strings(top.members().get("excludes"), "excludes");
        Map<String, List<String>> keyrings = digests(top.members().get("keyrings"), "keyrings");
        JsonObject ima = object(top.members().get("ima"), "ima");
        for (String k : List.of("ignored_keyrings", "log_hash_alg", "dm_policy")) {
            require(ima, k, "ima");
        }
        List<String> ignored = strings(ima.members().get("ignored_keyrings"), "ima.ignored_keyrings");
        String logHashAlg = string(ima.members().get("log_hash_alg"), "ima.log_hash_alg");
        if (!RuntimePolicy.LOG_HASH_ALGS.contains(logHashAlg)) {
            throw new Invalid("ima.log_hash_alg: '" + logHashAlg + "' is not one of ['sha1', 'sha256', 'sha384', 'sha512']");
        }
        if (!(ima.members().get("dm_policy") instanceof JsonNull)) {
            throw new Invalid("ima.dm_policy: must be null, as Keylime's schema requires");
        }
        Map<String, List<String>> imaBuf = digests(top.members().get("ima-buf"), "ima-buf");
        String keys = string(top.members().get("verification-keys"), "verification-keys");
        if (!keys.isEmpty()) {
            checkKeyring(keys);
        }
        return new RuntimePolicy(new RuntimePolicy.Meta(version, generator, timestamp), release, digests, excludes,
                keyrings, new RuntimePolicy.Ima(ignored, logHashAlg), imaBuf, keys);
    }

    /** The policy as JSON, members in the schema's order, {@code dm_policy} null. */
    static String write(RuntimePolicy p) {
        Map<String, JsonValue> meta = new LinkedHashMap<>();
        meta.put("version", number(p.meta().version()));
        meta.put("generator", number(p.meta().generator()));
        p.meta().timestamp().ifPresent(t -> meta.put("timestamp", new JsonString(t)));
        Map<String, JsonValue> ima = new LinkedHashMap<>();
        ima.put("ignored_keyrings", array(p.ima().ignoredKeyrings()));
        ima.put("log_hash_alg", new JsonString(p.ima().logHashAlg()));
        ima.put("dm_policy", new JsonNull());
        Map<String, JsonValue> top = new LinkedHashMap<>();
        top.put("meta", new JsonObject(meta));
        top.put("release", number(p.release()));
        top.put("digests", maplist(p.digests()));
        top.put("excludes", array(p.excludes()));
        top.put("keyrings", maplist(p.keyrings()));
        top.put("ima", new JsonObject(ima));
        top.put("ima-buf", maplist(p.imaBuf()));
        top.put("verification-keys", new JsonString(p.verificationKeys()));
        return JsonWriter.write(new JsonObject(top));
    }

    private static JsonNumber number(long v) {
        return new JsonNumber(Long.toString(v));
    }

    private static JsonArray array(List<String> items) {
        return new JsonArray(items.stream().<JsonValue>map(JsonString::new).toList());
    }

    private static JsonObject maplist(Map<String, List<String>> m) {
        Map<String, JsonValue> out = new LinkedHashMap<>();
        m.forEach((k, v) -> out.put(k, array(v)));
        return new JsonObject(out);
    }

    /** {@code IMA_KEYRING_JSON_SCHEMA}: an object with {@code keyids} (integers) and {@code pubkeys} (strings). */
    private static void checkKeyring(String keys) throws Invalid {
        JsonValue v;
        try {
            v = JsonReader.parse(keys);
        } catch (JsonException e) {
            throw new Invalid("verification-keys: not JSON: " + e.getMessage());
        }
        JsonObject o = object(v, "verification-keys");
        require(o, "keyids", "verification-keys");
        require(o, "pubkeys", "verification-keys");
        if (!(o.members().get("keyids") instanceof JsonArray ids)) {
            throw new Invalid("verification-keys.keyids: must be an array");
        }
        for (JsonValue id : ids.elements()) {
            integer(id, "verification-keys.keyids[]", Long.MIN_VALUE, Long.MAX_VALUE);
        }
        strings(o.members().get("pubkeys"), "verification-keys.pubkeys");
        if (o.members().get("meta") instanceof JsonValue meta) {
            JsonObject m = object(meta, "verification-keys.meta");
            require(m, "version", "verification-keys.meta");
            integer(m.members().get("version"), "verification-keys.meta.version", 1, Long.MAX_VALUE);
        }
    }

    /**
     * The tenant keyring of {@code verification-keys} ({@code ImaKeyring.from_string}): each base64
     * DER public key with the key id at the same index of {@code keyids}, or, when there is none
     * there (or it is 0), the id computed from the key. Keys that do not load are left out, as
     * Keylime logs and skips them.
     */
    static List<VerificationKey> tenantKeys(String verificationKeys) throws Invalid {
        if (verificationKeys.isEmpty()) {
            return List.of();
        }
        checkKeyring(verificationKeys);
        JsonObject o;
        try {
            o = (JsonObject) JsonReader.parse(verificationKeys);
        } catch (JsonException e) {
            throw new Invalid("verification-keys: not JSON: " + e.getMessage());
        }
        List<JsonValue> ids = ((JsonArray) o.members().get("keyids")).elements();
        List<JsonValue> keys = ((JsonArray) o.members().get("pubkeys")).elements();
        List<VerificationKey> out = new ArrayList<>();
        for (int i = 0; i < keys.size(); i++) {
            VerificationKey k;
            try {
                byte[] der = Base64.getMimeDecoder().decode(((JsonString) keys.get(i)).value());
                k = KeyFiles.readVerificationKey(der, "verification-keys.pubkeys[" + i + "]");
            } catch (RuntimeException e) {
                continue;
            }
            long id = i < ids.size() ? integer(ids.get(i), "verification-keys.keyids[]", Long.MIN_VALUE, Long.MAX_VALUE) : 0;
            out.add(new VerificationKey(k.publicKey(), id != 0 ? new KeyId((int) id) : k.keyId(), Optional.empty(),
                    k.source()));
        }
        return out;
    }

    /**
     * {@code ImaKeyring.to_string}: {@code {"pubkeys": [base64 DER], "keyids": [int]}}, a key's id
     * being its certificate's Subject Key Identifier tail, else the one computed from the key.
     */
    static String keyring(List<VerificationKey> keys) {
        Map<String, JsonValue> o = new LinkedHashMap<>();
        o.put("pubkeys", new JsonArray(keys.stream().<JsonValue>map(k ->
                new JsonString(Base64.getEncoder().encodeToString(k.publicKey().getEncoded()))).toList()));
        o.put("keyids", new JsonArray(keys.stream().<JsonValue>map(k ->
                number(Integer.toUnsignedLong(k.subjectKeyId().orElse(k.keyId()).value()))).toList()));
        return JsonWriter.writeCompact(new JsonObject(o));
    }

    private static Map<String, List<String>> digests(JsonValue v, String what) throws Invalid {
        JsonObject o = object(v, what);
        Map<String, List<String>> out = new LinkedHashMap<>();
        for (var e : o.members().entrySet()) {
            String where = what + "[\"" + e.getKey() + "\"]";
            List<String> list = strings(e.getValue(), where);
            if (list.isEmpty()) {
                throw new Invalid(where + ": [] should be non-empty");
            }
            for (String d : list) {
                if (!RuntimePolicy.DIGEST_PATTERN.matcher(d).matches()) {
                    throw new Invalid(where + ": '" + d + "' does not match '^[0-9a-f]{40,128}$'");
                }
            }
            out.put(e.getKey(), list);
        }
        return out;
    }

    private static JsonObject object(JsonValue v, String what) throws Invalid {
        if (v instanceof JsonObject o) {
            return o;
        }
        throw new Invalid(what + ": must be an object, not " + v.typeName());
    }

    private static void require(JsonObject o, String key, String what) throws Invalid {
        if (!o.members().containsKey(key)) {
            throw new Invalid(what + ": '" + key + "' is a required property");
        }
    }

    private static String string(JsonValue v, String what) throws Invalid {
        if (v instanceof JsonString s) {
            return s.value();
        }
        throw new Invalid(what + ": must be a string, not " + v.typeName());
    }

    private static List<String> strings(JsonValue v, String what) throws Invalid {
        if (!(v instanceof JsonArray a)) {
            throw new Invalid(what + ": must be an array, not " + v.typeName());
        }
        List<String> out = new ArrayList<>();
        for (JsonValue e : a.elements()) {
            out.add(string(e, what + "[]"));
        }
        return out;
    }

    /** JSON Schema's {@code integer}: any number with no fractional part ({@code 1.0} counts), in range. */
    private static long integer(JsonValue v, String what, long min, long max) throws Invalid {
        if (!(v instanceof JsonNumber n)) {
            throw new Invalid(what + ": must be an integer, not " + v.typeName());
        }
        BigDecimal d = new BigDecimal(n.literal());
        long value;
        try {
            value = d.stripTrailingZeros().scale() <= 0 ? d.longValueExact() : Long.MIN_VALUE;
        } catch (ArithmeticException e) {
            throw new Invalid(what + ": " + n.literal() + " is out of range");
        }
        if (d.stripTrailingZeros().scale() > 0) {
            throw new Invalid(what + ": " + n.literal() + " is not an integer");
        }
        if (value < min || value > max) {
            throw new Invalid(what + ": " + n.literal() + " is not in " + min + ".." + max);
        }
        return value;
    }
}
