package dev.imans.attest;

import dev.imans.crypto.DigestSignature;
import dev.imans.crypto.HashAlgo;
import dev.imans.crypto.KeyFiles;
import dev.imans.crypto.VerificationKey;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Checks an ascii IMA measurement list against a runtime policy the way Keylime's verifier does
 * ({@code keylime/ima/ima.py} {@code _process_measurement_list}, {@code _validate_ima_ng},
 * {@code _validate_ima_sig}, {@code _validate_ima_buf}; {@code keylime/ima/ast.py}
 * {@code Entry.invalid}), read at Keylime v7.14.3. Keylime could not be run where this was written;
 * the tests use this class in its place, so every rule below follows a named Keylime function and
 * reports Keylime's event ids and messages.
 *
 * <p>Not modelled: device-mapper validation (the schema makes {@code dm_policy} null), private keys
 * in keyring buffers (read as plain buffers, so never learned), and Keylime's incremental attestation
 * state (each check starts from an all-zero PCR, as an agent's first attestation does).
 */
public final class KeylimeImaCheck {
    /** {@code config.IMA_PCR}. */
    public static final String IMA_PCR = "10";
    private static final HexFormat HEX = HexFormat.of();

    private KeylimeImaCheck() {}

    /** One Keylime failure event: {@code Event.event_id} and the context's message. */
    public record Event(String id, String message) {
        @Override
        public String toString() {
            return id + ": " + message;
        }
    }

    /** What became of one entry. */
    public enum Verdict {
        /** Checked and accepted. */
        PASS,
        /** Accepted unchecked: the path matches {@code excludes}, or a ToMToU entry Keylime does not check. */
        SKIPPED,
        /** Keylime records at least one event for it. */
        FAIL
    }

    /**
     * One non-empty line of the list.
     *
     * @param line    1-based line number
     * @param mode    Keylime's mode class name ({@code ImaNg}, ...) or empty when unparsable
     * @param path    the event name, or the whole line when unparsable
     * @param verdict pass, skipped or fail
     * @param why     for skipped entries, why; for failures, the events' messages
     * @param events  Keylime's events for this line
     */
    public record EntryResult(int line, String mode, String path, Verdict verdict, String why, List<Event> events) {}

    /**
     * The outcome.
     *
     * @param entries      one per non-empty line
     * @param events       every event, list-wide ones ({@code ima.pcr_mismatch}) included; none means Keylime accepts
     * @param runningHash  the PCR value replaying every parsable entry gives (what Keylime returns)
     * @param pcrMatchLine the line after which the running hash equalled the expected PCR (0: before any),
     *                     empty if no PCR was given or none matched
     * @param failuresByMode Keylime's "IMA ERRORS" summary: failed entries per mode class
     * @param verifiedSignatures ima-sig entries accepted by their signature
     */
    public record Result(List<EntryResult> entries, List<Event> events, byte[] runningHash,
                         Optional<Integer> pcrMatchLine, Map<String, Integer> failuresByMode,
                         int verifiedSignatures) {
        public boolean passed() {
            return events.isEmpty();
        }
    }

    /**
     * What the verifier brings besides the list and the policy.
     *
     * @param pcrBank           the quoted PCR bank ({@code hash_alg}): sha1, sha256, sha384 or sha512
     * @param pcrValue          the quoted PCR 10 value, or empty to skip the comparison ({@code pcrval=None})
     * @param bootAggregates    boot aggregates the verifier computed from the boot log, added to
     *                          {@code digests["boot_aggregate"]} as {@code _process_measurement_list} does
     * @param ignoreTomtouErrors the verifier's {@code ignore_tomtou_errors}; as Keylime's code reads it,
     *                          {@code true} adds a {@code tomtou} event for each ToMToU entry and
     *                          {@code false} lets them pass unchecked
     * @param tenantKeys        the policy's {@code verification-keys} (Keylime's tenant keyring), each
     *                          with the key id the keyring gives it
     */
    public record Options(HashAlgo pcrBank, Optional<byte[]> pcrValue, List<String> bootAggregates,
                          boolean ignoreTomtouErrors, List<VerificationKey> tenantKeys) {
        public Options {
            if (!RuntimePolicy.LOG_HASH_ALGS.contains(pcrBank.kernelName())) {
                throw new IllegalArgumentException("PCR bank must be sha1, sha256, sha384 or sha512, not " + pcrBank);
            }
            pcrValue = pcrValue.map(byte[]::clone);
            bootAggregates = List.copyOf(bootAggregates);
            tenantKeys = List.copyOf(tenantKeys);
        }

        public static Options of(HashAlgo bank, Optional<byte[]> pcrValue) {
            return new Options(bank, pcrValue, List.of(), false, List.of());
        }
    }

    /**
     * Keylime's combined exclude regex ({@code validators.valid_exclude_list}: {@code (r1)|(r2)|...}),
     * or empty when there are no excludes. Python's {@code re} is approximated by Java's with
     * Unicode classes and {@code \n} as the only line end; a pattern Java cannot compile is refused,
     * since checking without it would judge differently from Keylime.
     *
     * @throws PatternSyntaxException naming the pattern
     */
    public static Optional<Pattern> excludeRegex(List<String> excludes) {
        if (excludes.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(Pattern.compile("(" + String.join(")|(", excludes) + ")",
                Pattern.UNICODE_CHARACTER_CLASS | Pattern.UNIX_LINES));
    }

    /**
     * Checks the list's text ({@code ima_measurement_list.split("\n")} in {@code tpm_main.__check_ima}).
     *
     * @throws PatternSyntaxException when an exclude is not a regular expression Java can compile
     */
    public static Result check(String listText, RuntimePolicy policy, Options options) {
        return check(Arrays.asList(listText.split("\n", -1)), policy, options);
    }

    /** {@code _process_measurement_list} over {@code lines}. */
    public static Result check(List<String> lines, RuntimePolicy policy, Options options) {
        Optional<Pattern> exclude = excludeRegex(policy.excludes());
        Map<String, List<String>> digests = new LinkedHashMap<>(policy.digests());
        if (!options.bootAggregates().isEmpty()) {
            List<String> ba = new ArrayList<>(digests.getOrDefault(RuntimePolicy.BOOT_AGGREGATE, List.of()));
            for (String v : options.bootAggregates()) {
                if (!ba.contains(v)) {
                    ba.add(v);
                }
            }
            digests.put(RuntimePolicy.BOOT_AGGREGATE, ba);
        }
        HashAlgo logHash = HashAlgo.byName(policy.ima().logHashAlg()).orElseThrow();
        HashAlgo bank = options.pcrBank();
        // ImaKeyrings: the tenant keyring, then keys learned from accepted ima-buf key entries.
        Map<Integer, PublicKey> keys = new LinkedHashMap<>();
        for (VerificationKey k : options.tenantKeys()) {
            keys.put(k.keyId().value(), k.publicKey());
        }

        List<EntryResult> results = new ArrayList<>();
        List<Event> events = new ArrayList<>();
        Map<String, Integer> failuresByMode = new LinkedHashMap<>();
        int verifiedSignatures = 0;
        // TPMState.initial_pcr_value: PCR 10 starts at zeros.
        byte[] running = new byte[bank.digestSize()];
        Optional<byte[]> pcrval = options.pcrValue();
        // The PCR may lag the list (quote and list are not read atomically), so Keylime accepts a
        // match after any prefix, the empty one included; later entries are still checked.
        Optional<Integer> matchLine = pcrval.isPresent() && Arrays.equals(running, pcrval.get())
                ? Optional.of(0) : Optional.empty();

        for (int i = 0; i < lines.size(); i++) {
            String line = stripNewlines(lines.get(i));
            if (line.isEmpty()) {
                continue;
            }
            KeylimeEntry entry;
            try {
                entry = KeylimeEntry.parse(line);
            } catch (KeylimeEntry.ParseException e) {
                // The running hash is not extended for a line Keylime cannot parse.
                Event ev = new Event("ima.parser.entry", "Line was not parsable into a valid IMA entry: " + line);
                events.add(ev);
                results.add(new EntryResult(i + 1, "", line, Verdict.FAIL, ev.message() + " (" + e.getMessage() + ")",
                        List.of(ev)));
                continue;
            }
            byte[] templateHash = entry.templateHash();
            byte[] pcrTemplateHash = bank.newDigest().digest(entry.templateData());
            // Entry.__init__: an all-zero template digest (a violation) is replaced by 0xff..., as
            // the kernel extends the PCR with 0xff for it.
            if (Arrays.equals(templateHash, new byte[logHash.digestSize()])) {
                templateHash = ff(logHash.digestSize());
                pcrTemplateHash = ff(bank.digestSize());
            }
            java.security.MessageDigest md = bank.newDigest();
            md.update(running);
            md.update(pcrTemplateHash);
            running = md.digest();

            List<Event> own = new ArrayList<>();
            String skipped = invalid(entry, templateHash, logHash, options, own, digests, policy, exclude, keys);
            if (SIGNATURE_VERIFIED.equals(skipped)) {
                verifiedSignatures++;
            }
            Verdict verdict = !own.isEmpty() ? Verdict.FAIL
                    : skipped != null && !skipped.equals(SIGNATURE_VERIFIED) ? Verdict.SKIPPED : Verdict.PASS;
            if (!own.isEmpty()) {
                failuresByMode.merge(entry.mode().className(), 1, Integer::sum);
                events.addAll(own);
            }
            String why = !own.isEmpty()
                    ? String.join("; ", own.stream().map(Event::message).toList())
                    : skipped == null ? "" : skipped;
            results.add(new EntryResult(i + 1, entry.mode().className(), entry.mode().path(), verdict, why,
                    List.copyOf(own)));

            if (pcrval.isPresent() && matchLine.isEmpty() && Arrays.equals(running, pcrval.get())) {
                matchLine = Optional.of(i + 1);
            }
        }
        if (pcrval.isPresent() && matchLine.isEmpty()) {
            events.add(new Event("ima.pcr_mismatch", "IMA measurement list does not match TPM PCR "
                    + HEX.formatHex(pcrval.get())));
        }
        return new Result(List.copyOf(results), List.copyOf(events), running, matchLine, failuresByMode,
                verifiedSignatures);
    }

    /**
     * {@code Entry.invalid}: the PCR index, the template digest, then the mode's validator. Adds
     * events to {@code out}; returns why the entry was let through unchecked, or null.
     */
    private static String invalid(KeylimeEntry entry, byte[] templateHash, HashAlgo logHash, Options options,
                                  List<Event> out, Map<String, List<String>> digests, RuntimePolicy policy,
                                  Optional<Pattern> exclude, Map<Integer, PublicKey> keys) {
        if (!entry.pcr().equals(IMA_PCR)) {
            out.add(new Event("ima.validation.ima_pcr", "IMA PCR is not the configured one (expected " + IMA_PCR
                    + ", got " + entry.pcr() + ")"));
        }
        if (Arrays.equals(templateHash, ff(logHash.digestSize()))) {
            if (options.ignoreTomtouErrors()) {
                out.add(new Event("ima.validation.tomtou", "hash validation was skipped"));
            }
            return "ToMToU entry: template hash validation skipped";
        }
        if (!Arrays.equals(templateHash, logHash.newDigest().digest(entry.templateData()))) {
            out.add(new Event("ima.validation.ima_hash", "IMA template hash does not match the calculated hash."));
            return null;
        }
        KeylimeEntry.Mode mode = entry.mode();
        return switch (mode) {
            case KeylimeEntry.Ima m -> validateImaNg(exclude, digests, mode, out);
            case KeylimeEntry.ImaNg m -> validateImaNg(exclude, digests, mode, out);
            case KeylimeEntry.ImaSig m -> validateImaSig(exclude, digests, m, keys, out);
            case KeylimeEntry.ImaBuf b -> validateImaBuf(exclude, policy, b, keys, out);
        };
    }

    /** Why an entry passed without its digest being looked up: its signature verified. */
    private static final String SIGNATURE_VERIFIED = "signature verified";

    /**
     * {@code _validate_ima_sig}: an excluded path passes; a signature one of the keys verifies passes;
     * anything else goes to the runtime policy ({@code _validate_ima_ng}).
     */
    private static String validateImaSig(Optional<Pattern> exclude, Map<String, List<String>> digests,
                                         KeylimeEntry.ImaSig m, Map<Integer, PublicKey> keys, List<Event> out) {
        if (m.signature().isPresent()) {
            if (exclude.isPresent() && exclude.get().matcher(m.path()).lookingAt()) {
                return "excluded (matches excludes)";
            }
            if (digsigVerify(m.signature().get(), m.digest(), keys)) {
                return SIGNATURE_VERIFIED;
            }
        }
        return validateImaNg(exclude, digests, m, out);
    }

    /**
     * {@code ImaKeyrings.integrity_digsig_verify} and {@code _asymmetric_verify}: type 3 or 5, version 2,
     * the header's size right, its hash algorithm the one the list names for the digest, a key with the
     * header's key id, and an RSA PKCS#1 v1.5 or ECDSA signature over the digest.
     */
    static boolean digsigVerify(byte[] sig, KeylimeEntry.Digest digest, Map<Integer, PublicKey> keys) {
        if (sig.length < 2 || (sig[0] != 3 && sig[0] != 5) || sig[1] != 2 || sig.length < 9) {
            return false;
        }
        int sigSize = (sig[7] & 0xff) << 8 | sig[8] & 0xff;
        if (sig.length - 9 != sigSize) {
            return false;
        }
        Optional<HashAlgo> algo = HashAlgo.byId(sig[2] & 0xff).filter(KEYLIME_SIG_HASHES::contains);
        if (algo.isEmpty() || !algo.get().kernelName().equals(digest.algorithm())) {
            return false;
        }
        int keyId = (sig[3] & 0xff) << 24 | (sig[4] & 0xff) << 16 | (sig[5] & 0xff) << 8 | sig[6] & 0xff;
        PublicKey key = keys.get(keyId);
        return key != null && algo.get().isSupported()
                && DigestSignature.verify(key, algo.get(), digest.hash(), Arrays.copyOfRange(sig, 9, sig.length));
    }

    /** {@code file_signatures.HASH_FUNCS}: the algorithms Keylime verifies signatures with. */
    private static final List<HashAlgo> KEYLIME_SIG_HASHES = List.of(HashAlgo.MD5, HashAlgo.SHA1, HashAlgo.SHA256,
            HashAlgo.SHA384, HashAlgo.SHA512, HashAlgo.SHA224, HashAlgo.STREEBOG_256, HashAlgo.STREEBOG_512);

    /**
     * {@code _validate_ima_ng}: an excluded path passes unchecked (the excludes are tried first, even
     * for listed paths); a path missing from the map fails; so does a digest not among the path's.
     * Only the hex is compared: the algorithm name printed before it is not.
     */
    private static String validateImaNg(Optional<Pattern> exclude, Map<String, List<String>> accept,
                                        KeylimeEntry.Mode mode, List<Event> out) {
        String path = mode.path();
        if (exclude.isPresent() && exclude.get().matcher(path).lookingAt()) {
            return "excluded (matches excludes)";
        }
        List<String> list = accept.get(path);
        if (list == null) {
            out.add(new Event("ima.validation.ima-ng.not_in_allowlist", "File not found in allowlist: " + path));
            return null;
        }
        String hex = HEX.formatHex(mode.digest().hash());
        if (!list.contains(hex)) {
            out.add(new Event("ima.validation.ima-ng.runtime_policy_hash",
                    "Hash not found in runtime policy (got " + hex + ", expected " + list + ")"));
        }
        return null;
    }

    /**
     * {@code _validate_ima_buf}: a buffer holding a public key is checked against {@code keyrings}
     * unless its keyring is ignored ({@code *} ignores all); any other buffer against {@code ima-buf}.
     */
    private static String validateImaBuf(Optional<Pattern> exclude, RuntimePolicy policy, KeylimeEntry.ImaBuf b,
                                         Map<Integer, PublicKey> keys, List<Event> out) {
        Optional<VerificationKey> key = key(b.buffer());
        if (key.isPresent()) {
            List<String> ignored = policy.ima().ignoredKeyrings();
            if (ignored.contains("*") || ignored.contains(b.path())) {
                return "key on an ignored keyring";
            }
            List<Event> own = new ArrayList<>();
            String why = validateImaNg(exclude, policy.keyrings(), b, own);
            if (own.isEmpty()) {
                // An accepted key joins the keyrings that verify later ima-sig entries; a
                // certificate's key id comes from its Subject Key Identifier.
                VerificationKey k = key.get();
                keys.put(k.subjectKeyId().orElse(k.keyId()).value(), k.publicKey());
            }
            out.addAll(own);
            return why;
        }
        return validateImaNg(exclude, policy.imaBuf(), b, out);
    }

    /**
     * {@code file_signatures.get_pubkey}, for the forms Java reads without a provider: an X.509
     * certificate or a public key, DER or PEM ({@code KeyFiles}). Private keys, which Keylime also
     * accepts, are not recognised (imans never measures key buffers).
     */
    static Optional<VerificationKey> key(byte[] data) {
        try {
            return Optional.of(KeyFiles.readVerificationKey(data, "ima-buf"));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    /** {@code line.strip("\n")}: only newlines, so a trailing space (an empty last field) stays. */
    private static String stripNewlines(String s) {
        int from = 0;
        int to = s.length();
        while (from < to && s.charAt(from) == '\n') {
            from++;
        }
        while (to > from && s.charAt(to - 1) == '\n') {
            to--;
        }
        return s.substring(from, to);
    }

    private static byte[] ff(int n) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) 0xff);
        return b;
    }
}
