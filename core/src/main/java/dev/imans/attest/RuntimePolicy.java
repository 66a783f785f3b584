package dev.imans.attest;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * A Keylime runtime policy, format version 1 (Keylime 7.x, {@code keylime/ima/ima.py}
 * {@code RUNTIME_POLICY_SCHEMA} and {@code keylime/ima/types.py} {@code RuntimePolicyType}). Only
 * what the schema accepts can be built: digests are lowercase hex of 40 to 128 digits with at least
 * one per path, {@code ima.dm_policy} is always {@code null} (the schema allows nothing else),
 * {@code log_hash_alg} is one of sha1, sha256, sha384, sha512.
 *
 * @param meta             {@code meta}: version, generator, optional timestamp
 * @param release          {@code release}, an integer of at least 0
 * @param digests          {@code digests}: path (or {@code boot_aggregate}) to accepted file digests
 * @param excludes         {@code excludes}: Python regular expressions matched from the start of a path
 * @param keyrings         {@code keyrings}: keyring name to accepted key digests
 * @param ima              {@code ima}: ignored keyrings and the template-hash algorithm of the list
 * @param imaBuf           {@code ima-buf}: buffer name to accepted buffer digests
 * @param verificationKeys {@code verification-keys}: a JSON-encoded IMA keyring, or empty
 */
public record RuntimePolicy(Meta meta, long release, Map<String, List<String>> digests, List<String> excludes,
                            Map<String, List<String>> keyrings, Ima ima, Map<String, List<String>> imaBuf,
                            String verificationKeys) {
    /** {@code RUNTIME_POLICY_CURRENT_VERSION} in keylime/ima/ima.py. */
    public static final int CURRENT_VERSION = 1;
    /**
     * {@code RUNTIME_POLICY_GENERATOR.LegacyAllowList}, what Keylime's own {@code create_runtime_policy}
     * writes. The verifier expects an IMA log only from a policy whose generator is above
     * {@code EmptyAllowList} (1), so a generated policy must not say 0 or 1.
     */
    public static final int GENERATOR_LEGACY_ALLOWLIST = 3;
    /** The schema's bounds for {@code meta.generator} (min and max of {@code RUNTIME_POLICY_GENERATOR}). */
    public static final int GENERATOR_MAX = 3;
    /** {@code ima.log_hash_alg}'s enum in the schema. */
    public static final Set<String> LOG_HASH_ALGS = Set.of("sha1", "sha256", "sha384", "sha512");
    /** The schema's pattern for every digest in {@code digests}, {@code keyrings} and {@code ima-buf}. */
    public static final Pattern DIGEST_PATTERN = Pattern.compile("^[0-9a-f]{40,128}$");
    /** The event name of the list's first entry, checked against {@code digests} like a path. */
    public static final String BOOT_AGGREGATE = "boot_aggregate";

    /** {@code meta}. */
    public record Meta(long version, long generator, Optional<String> timestamp) {
        public Meta {
            if (version < 0) {
                throw new IllegalArgumentException("meta.version must be at least 0");
            }
            if (generator < 0 || generator > GENERATOR_MAX) {
                throw new IllegalArgumentException("meta.generator must be 0 to " + GENERATOR_MAX);
            }
        }
    }

    /** {@code ima}; {@code dm_policy} is always {@code null}. */
    public record Ima(List<String> ignoredKeyrings, String logHashAlg) {
        public Ima {
            ignoredKeyrings = List.copyOf(ignoredKeyrings);
            if (!LOG_HASH_ALGS.contains(logHashAlg)) {
                throw new IllegalArgumentException("ima.log_hash_alg must be one of sha1, sha256, sha384, sha512, not "
                        + logHashAlg);
            }
        }
    }

    public RuntimePolicy {
        if (release < 0) {
            throw new IllegalArgumentException("release must be at least 0");
        }
        digests = checkedDigests("digests", digests);
        keyrings = checkedDigests("keyrings", keyrings);
        imaBuf = checkedDigests("ima-buf", imaBuf);
        excludes = List.copyOf(excludes);
        java.util.Objects.requireNonNull(meta, "meta");
        java.util.Objects.requireNonNull(ima, "ima");
        java.util.Objects.requireNonNull(verificationKeys, "verification-keys");
    }

    private static Map<String, List<String>> checkedDigests(String what, Map<String, List<String>> in) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        for (var e : in.entrySet()) {
            if (e.getValue().isEmpty()) {
                throw new IllegalArgumentException(what + "[\"" + e.getKey() + "\"] must list at least one digest");
            }
            for (String d : e.getValue()) {
                if (!DIGEST_PATTERN.matcher(d).matches()) {
                    throw new IllegalArgumentException(what + "[\"" + e.getKey() + "\"]: \"" + d
                            + "\" is not 40 to 128 lowercase hex digits");
                }
            }
            out.put(e.getKey(), List.copyOf(e.getValue()));
        }
        return Collections.unmodifiableMap(out);
    }

    /**
     * Collects digests and excludes from several sources into one policy, as Keylime's
     * {@code create_runtime_policy} does: lists are merged ({@code merge_maplists}), then made
     * unique and sorted.
     */
    public static final class Builder {
        private final Map<String, Set<String>> digests = new TreeMap<>();
        private final Map<String, Set<String>> keyrings = new TreeMap<>();
        private final Map<String, Set<String>> imaBuf = new TreeMap<>();
        private final Set<String> excludes = new TreeSet<>();
        private final Set<String> ignoredKeyrings = new TreeSet<>();
        private String logHashAlg = "sha1";
        private String verificationKeys = "";
        private long release;

        public Builder digest(String path, String hex) {
            add(digests, "digests", path, hex);
            return this;
        }

        public Builder keyring(String name, String hex) {
            add(keyrings, "keyrings", name, hex);
            return this;
        }

        public Builder ignoredKeyring(String name) {
            ignoredKeyrings.add(name);
            return this;
        }

        /** {@code verification-keys}: the JSON text of an IMA keyring ({@code ImaKeyring.to_string}). */
        public Builder verificationKeys(String json) {
            this.verificationKeys = json;
            return this;
        }

        public Builder exclude(String regex) {
            excludes.add(regex);
            return this;
        }

        public Builder release(long release) {
            this.release = release;
            return this;
        }

        public Builder logHashAlg(String alg) {
            this.logHashAlg = alg;
            return this;
        }

        /**
         * Adds the digests, excludes, keyrings, buffers and ignored keyrings {@code other} holds; its log
         * hash algorithm wins, the higher release stays. Its {@code verification-keys} are left to the
         * caller (see {@link #verificationKeys}): combining keyrings needs their key ids parsed.
         */
        public Builder merge(RuntimePolicy other) {
            other.digests().forEach((k, v) -> v.forEach(d -> add(digests, "digests", k, d)));
            other.keyrings().forEach((k, v) -> v.forEach(d -> add(keyrings, "keyrings", k, d)));
            other.imaBuf().forEach((k, v) -> v.forEach(d -> add(imaBuf, "ima-buf", k, d)));
            excludes.addAll(other.excludes());
            ignoredKeyrings.addAll(other.ima().ignoredKeyrings());
            logHashAlg = other.ima().logHashAlg();
            release = Math.max(release, other.release());
            return this;
        }

        private static void add(Map<String, Set<String>> map, String what, String key, String hex) {
            if (!DIGEST_PATTERN.matcher(hex).matches()) {
                throw new IllegalArgumentException(what + "[\"" + key + "\"]: \"" + hex
                        + "\" is not 40 to 128 lowercase hex digits");
            }
            map.computeIfAbsent(key, k -> new TreeSet<>()).add(hex);
        }

        public RuntimePolicy build(Optional<String> timestamp) {
            return new RuntimePolicy(new Meta(CURRENT_VERSION, GENERATOR_LEGACY_ALLOWLIST, timestamp), release,
                    lists(digests), new ArrayList<>(excludes), lists(keyrings),
                    new Ima(new ArrayList<>(ignoredKeyrings), logHashAlg), lists(imaBuf), verificationKeys);
        }

        private static Map<String, List<String>> lists(Map<String, Set<String>> m) {
            Map<String, List<String>> out = new LinkedHashMap<>();
            m.forEach((k, v) -> out.put(k, new ArrayList<>(v)));
            return out;
        }
    }
}
