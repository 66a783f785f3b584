package dev.imans.attest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.imans.attest.KeylimeImaCheck.EntryResult;
import dev.imans.attest.KeylimeImaCheck.Event;
import dev.imans.attest.KeylimeImaCheck.Options;
import dev.imans.attest.KeylimeImaCheck.Result;
import dev.imans.attest.KeylimeImaCheck.Verdict;
import dev.imans.crypto.DigestSignature;
import dev.imans.crypto.HashAlgo;
import dev.imans.crypto.KeyId;
import dev.imans.crypto.VerificationKey;
import dev.imans.xattr.ImaXattr;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import dev.imans.measure.AsciiList;
import dev.imans.measure.EventData;
import dev.imans.measure.MeasuredDigest;
import dev.imans.measure.MeasurementEntry;
import dev.imans.measure.MeasurementList;
import dev.imans.measure.Template;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.PatternSyntaxException;
import org.junit.jupiter.api.Test;

/**
 * Keylime's list checks on lists written by imans's own encoder (an independent implementation of
 * the template data), so every template digest Keylime's rules rebuild is checked against the
 * kernel-format one, and every rule's verdict and event id against Keylime's.
 */
class KeylimeImaCheckTest {
    private static final HexFormat HEX = HexFormat.of();
    private static final String ZERO256 = "0".repeat(64);

    private static MeasuredDigest sha256(String content) throws Exception {
        return new MeasuredDigest(HashAlgo.SHA256,
                MessageDigest.getInstance("SHA-256").digest(content.getBytes(StandardCharsets.UTF_8)));
    }

    private static MeasurementEntry file(int pcr, Template t, String path, String content) throws Exception {
        return MeasurementEntry.create(pcr, t, EventData.file(path, sha256(content)).build(), HashAlgo.SHA256);
    }

    private static MeasurementEntry bootAggregate() {
        return MeasurementEntry.create(10, Template.IMA_NG,
                EventData.file(EventData.BOOT_AGGREGATE_NAME, MeasuredDigest.zero(HashAlgo.SHA256)).build(),
                HashAlgo.SHA256);
    }

    /** A list the daemon's way: boot_aggregate, then the entries; its PCR banks kept by imans's code. */
    private static MeasurementList list(MeasurementEntry... entries) {
        MeasurementList l = new MeasurementList();
        l.add(bootAggregate());
        for (MeasurementEntry e : entries) {
            l.add(e);
        }
        return l;
    }

    private static String ascii(MeasurementList l) {
        return new String(AsciiList.render(l.snapshot().entries(), HashAlgo.SHA1), StandardCharsets.UTF_8);
    }

    private static RuntimePolicy policy(Map<String, String> digests, String... excludes) {
        RuntimePolicy.Builder b = new RuntimePolicy.Builder();
        digests.forEach(b::digest);
        for (String x : excludes) {
            b.exclude(x);
        }
        return b.build(Optional.empty());
    }

    private static String hex(MeasuredDigest d) {
        return HEX.formatHex(d.value());
    }

    private static Options pcr(MeasurementList l, HashAlgo bank) {
        return Options.of(bank, Optional.of(l.bank(bank).value(10)));
    }

    @Test
    void aListWhosePathsAndDigestsAreListedPassesAndReplaysToTheKernelsPcr() throws Exception {
        MeasurementList l = list(file(10, Template.IMA_NG, "/usr/bin/app", "app"),
                file(10, Template.IMA_NG, "/etc/app.conf", "conf"));
        RuntimePolicy p = policy(Map.of("boot_aggregate", ZERO256, "/usr/bin/app", hex(sha256("app")),
                "/etc/app.conf", hex(sha256("conf"))));
        for (HashAlgo bank : List.of(HashAlgo.SHA1, HashAlgo.SHA256)) {
            Result r = KeylimeImaCheck.check(ascii(l), p, pcr(l, bank));
            assertThat(r.events()).isEmpty();
            assertThat(r.passed()).isTrue();
            assertThat(r.runningHash()).isEqualTo(l.bank(bank).value(10));
            assertThat(r.pcrMatchLine()).contains(3);
            assertThat(r.entries()).extracting(EntryResult::verdict).containsOnly(Verdict.PASS);
            assertThat(r.entries()).extracting(EntryResult::path)
                    .containsExactly("boot_aggregate", "/usr/bin/app", "/etc/app.conf");
        }
    }

    @Test
    void aChangedDigestAndAnUnlistedPathFailWithKeylimesEvents() throws Exception {
        MeasurementList l = list(file(10, Template.IMA_NG, "/usr/bin/app", "changed"),
                file(10, Template.IMA_NG, "/usr/bin/new", "new"));
        RuntimePolicy p = policy(Map.of("boot_aggregate", ZERO256, "/usr/bin/app", hex(sha256("app"))));
        Result r = KeylimeImaCheck.check(ascii(l), p, pcr(l, HashAlgo.SHA1));
        assertThat(r.passed()).isFalse();
        assertThat(r.events()).extracting(Event::id).containsExactly(
                "ima.validation.ima-ng.runtime_policy_hash", "ima.validation.ima-ng.not_in_allowlist");
        assertThat(r.events().get(0).message()).isEqualTo("Hash not found in runtime policy (got "
                + hex(sha256("changed")) + ", expected [" + hex(sha256("app")) + "])");
        assertThat(r.events().get(1).message()).isEqualTo("File not found in allowlist: /usr/bin/new");
        assertThat(r.failuresByMode()).isEqualTo(Map.of("ImaNg", 2));
        // The PCR still replays: failures are the policy's, not the list's.
        assertThat(r.pcrMatchLine()).contains(3);
        assertThat(r.entries()).extracting(EntryResult::verdict).containsExactly(Verdict.PASS, Verdict.FAIL, Verdict.FAIL);
    }

    @Test
    void excludesMatchFromTheStartOfThePathAndWinOverDigests() throws Exception {
        MeasurementList l = list(file(10, Template.IMA_NG, "/tmp/scratch", "x"),
                file(10, Template.IMA_NG, "/usr/bin/app", "changed"),
                file(10, Template.IMA_NG, "/var/log/x", "y"));
        // "log" would match /var/log/x with re.search, but Keylime uses re.match.
        RuntimePolicy p = policy(Map.of("boot_aggregate", ZERO256, "/usr/bin/app", hex(sha256("app"))),
                "/tmp/.*", "/usr/bin/app$", "log");
        Result r = KeylimeImaCheck.check(ascii(l), p, pcr(l, HashAlgo.SHA1));
        assertThat(r.entries()).extracting(EntryResult::verdict)
                .containsExactly(Verdict.PASS, Verdict.SKIPPED, Verdict.SKIPPED, Verdict.FAIL);
        assertThat(r.events()).extracting(Event::message).containsExactly("File not found in allowlist: /var/log/x");
        // Keylime's exclude regexes are joined as (r1)|(r2)|...: one bad pattern spoils the lot.
        assertThatThrownBy(() -> KeylimeImaCheck.check(ascii(l), policy(Map.of(), "(unclosed"), pcr(l, HashAlgo.SHA1)))
                .isInstanceOf(PatternSyntaxException.class);
    }

    @Test
    void aTamperedLineFailsItsTemplateHashAndOnlyThat() throws Exception {
        MeasurementList l = list(file(10, Template.IMA_NG, "/usr/bin/app", "app"));
        RuntimePolicy p = policy(Map.of("boot_aggregate", ZERO256, "/usr/bin/app", hex(sha256("app")),
                "/usr/bin/ppa", hex(sha256("app"))));
        String tampered = ascii(l).replace("/usr/bin/app", "/usr/bin/ppa");
        Result r = KeylimeImaCheck.check(tampered, p, pcr(l, HashAlgo.SHA1));
        assertThat(r.events()).extracting(Event::id).containsExactly("ima.validation.ima_hash", "ima.pcr_mismatch");
        assertThat(r.events().get(1).message()).isEqualTo("IMA measurement list does not match TPM PCR "
                + HEX.formatHex(l.bank(HashAlgo.SHA1).value(10)));
    }

    @Test
    void entriesOutsidePcr10FailAndOneDigitPcrsAreUnparsable() throws Exception {
        MeasurementList l = list(file(11, Template.IMA_NG, "/a", "a"), file(4, Template.IMA_NG, "/b", "b"));
        RuntimePolicy p = policy(Map.of("boot_aggregate", ZERO256, "/a", hex(sha256("a")), "/b", hex(sha256("b"))));
        Result r = KeylimeImaCheck.check(ascii(l), p, Options.of(HashAlgo.SHA1, Optional.empty()));
        assertThat(r.events()).extracting(Event::id).containsExactly("ima.validation.ima_pcr", "ima.parser.entry");
        assertThat(r.events().get(0).message()).isEqualTo("IMA PCR is not the configured one (expected 10, got 11)");
        assertThat(r.events().get(1).message()).startsWith("Line was not parsable into a valid IMA entry:  4 ");
        // Keylime folds every parsed entry into PCR 10, whatever its index; unparsable ones not at all.
        MeasurementList folded = list(file(10, Template.IMA_NG, "/a", "a"));
        assertThat(r.runningHash()).isEqualTo(folded.bank(HashAlgo.SHA1).value(10));
    }

    @Test
    void templatesKeylimeHasNoParserForAreUnparsable() throws Exception {
        MeasurementList l = list(file(10, Template.IMA_NGV2, "/a", "a"));
        RuntimePolicy p = policy(Map.of("boot_aggregate", ZERO256, "/a", hex(sha256("a"))));
        Result r = KeylimeImaCheck.check(ascii(l), p, pcr(l, HashAlgo.SHA1));
        assertThat(r.entries().get(1).why()).contains("No parser for mode ima-ngv2 implemented.");
        assertThat(r.events()).extracting(Event::id).containsExactly("ima.parser.entry", "ima.pcr_mismatch");
    }

    @Test
    void theImaAndImaSigTemplatesRebuildToTheKernelsTemplateData() throws Exception {
        byte[] sig = HEX.parseHex("030204aabbccdd0004" + "01020304");
        MeasurementEntry legacy = MeasurementEntry.create(10, Template.IMA,
                EventData.file("/bin/legacy", sha256("l")).sha1Digest(new MeasuredDigest(HashAlgo.SHA1,
                        MessageDigest.getInstance("SHA-1").digest("l".getBytes(StandardCharsets.UTF_8)))).build(),
                HashAlgo.SHA256);
        MeasurementEntry unsigned = file(10, Template.IMA_SIG, "/bin/unsigned", "u");
        MeasurementEntry signed = MeasurementEntry.create(10, Template.IMA_SIG,
                EventData.file("/bin/signed", sha256("s")).imaXattr(sig).build(), HashAlgo.SHA256);
        MeasurementList l = list(legacy, unsigned, signed);
        String text = ascii(l);
        assertThat(text).contains(" ima-sig sha256:" + hex(sha256("u")) + " /bin/unsigned \n");
        RuntimePolicy p = policy(Map.of("boot_aggregate", ZERO256,
                "/bin/legacy", HEX.formatHex(MessageDigest.getInstance("SHA-1").digest("l".getBytes(StandardCharsets.UTF_8))),
                "/bin/unsigned", hex(sha256("u")), "/bin/signed", hex(sha256("s"))));
        Result r = KeylimeImaCheck.check(text, p, pcr(l, HashAlgo.SHA256));
        assertThat(r.events()).isEmpty();
        assertThat(r.entries()).extracting(EntryResult::mode).containsExactly("ImaNg", "Ima", "ImaSig", "ImaSig");
        assertThat(r.verifiedSignatures()).isZero();
    }

    @Test
    void aPcrThatLagsTheListMatchesAPrefixAndAWrongOneFails() throws Exception {
        MeasurementList two = list(file(10, Template.IMA_NG, "/a", "a"));
        MeasurementList three = list(file(10, Template.IMA_NG, "/a", "a"), file(10, Template.IMA_NG, "/b", "b"));
        RuntimePolicy p = policy(Map.of("boot_aggregate", ZERO256, "/a", hex(sha256("a")), "/b", hex(sha256("b"))));
        Result lag = KeylimeImaCheck.check(ascii(three), p, pcr(two, HashAlgo.SHA1));
        assertThat(lag.passed()).isTrue();
        assertThat(lag.pcrMatchLine()).contains(2);
        Result zero = KeylimeImaCheck.check(ascii(three), p, Options.of(HashAlgo.SHA1, Optional.of(new byte[20])));
        assertThat(zero.pcrMatchLine()).contains(0);
        byte[] otherBank = java.util.Arrays.copyOf(three.bank(HashAlgo.SHA256).value(10), 20);
        Result wrong = KeylimeImaCheck.check(ascii(three), p, Options.of(HashAlgo.SHA1, Optional.of(otherBank)));
        assertThat(wrong.events()).extracting(Event::id).containsExactly("ima.pcr_mismatch");
        assertThat(wrong.pcrMatchLine()).isEmpty();
    }

    @Test
    void aViolationIsNotCheckedUnlessIgnoreTomtouErrorsIsSetAndExtendsWithOnes() throws Exception {
        MeasurementEntry violation = MeasurementEntry.create(10, Template.IMA_NG,
                EventData.violation("/var/log/racy").build(), HashAlgo.SHA256);
        MeasurementList l = list(violation);
        assertThat(l.violations()).isEqualTo(1);
        RuntimePolicy p = policy(Map.of("boot_aggregate", ZERO256));
        Result r = KeylimeImaCheck.check(ascii(l), p, pcr(l, HashAlgo.SHA1));
        assertThat(r.passed()).isTrue();
        assertThat(r.entries().get(1).verdict()).isEqualTo(Verdict.SKIPPED);
        Result strict = KeylimeImaCheck.check(ascii(l), p,
                new Options(HashAlgo.SHA1, Optional.of(l.bank(HashAlgo.SHA1).value(10)), List.of(), true, List.of()));
        assertThat(strict.events()).extracting(Event::id).containsExactly("ima.validation.tomtou");
    }

    @Test
    void bootAggregatesFromTheVerifierJoinThePolicysAndTheAlgorithmNameIsNotCompared() throws Exception {
        MeasurementList l = list(file(10, Template.IMA_NG, "/a", "a"));
        RuntimePolicy p = policy(Map.of("/a", hex(sha256("a"))));
        assertThat(KeylimeImaCheck.check(ascii(l), p, pcr(l, HashAlgo.SHA1)).events()).extracting(Event::message)
                .containsExactly("File not found in allowlist: boot_aggregate");
        Options withBa = new Options(HashAlgo.SHA1, Optional.of(l.bank(HashAlgo.SHA1).value(10)), List.of(ZERO256), false, List.of());
        assertThat(KeylimeImaCheck.check(ascii(l), p, withBa).passed()).isTrue();
        // The algorithm name is template data: renaming it breaks the template hash and the PCR.
        String renamed = ascii(l).replace("sha256:" + hex(sha256("a")), "sha3-256:" + hex(sha256("a")));
        Result r = KeylimeImaCheck.check(renamed, p, withBa);
        assertThat(r.events()).extracting(Event::id).containsExactly("ima.validation.ima_hash", "ima.pcr_mismatch");
    }

    private static MeasurementEntry signedFile(String path, String content, KeyPair key, HashAlgo algo) throws Exception {
        MeasuredDigest d = new MeasuredDigest(algo, MessageDigest.getInstance(algo.newDigest().getAlgorithm())
                .digest(content.getBytes(StandardCharsets.UTF_8)));
        byte[] sig = DigestSignature.sign(key.getPrivate(), algo, d.value());
        byte[] xattr = ImaXattr.SignatureV2.of(algo, KeyId.ofPublicKey(key.getPublic()), sig).encode();
        return MeasurementEntry.create(10, Template.IMA_SIG, EventData.file(path, d).imaXattr(xattr).build(), algo);
    }

    private static KeyPair keyPair(String alg) throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance(alg);
        g.initialize(alg.equals("RSA") ? 2048 : 256);
        return g.generateKeyPair();
    }

    private static VerificationKey tenantKey(KeyPair k) {
        return new VerificationKey(k.getPublic(), KeyId.ofPublicKey(k.getPublic()), Optional.empty(), "test");
    }

    @Test
    void signedEntriesPassThroughTheTenantKeysOrFallBackToDigests() throws Exception {
        KeyPair rsa = keyPair("RSA");
        KeyPair ec = keyPair("EC");
        MeasurementList l = list(signedFile("/bin/rsa", "r", rsa, HashAlgo.SHA256),
                signedFile("/bin/ec", "e", ec, HashAlgo.SHA256), file(10, Template.IMA_SIG, "/bin/plain", "p"));
        RuntimePolicy p = policy(Map.of("boot_aggregate", ZERO256, "/bin/plain", hex(sha256("p"))));
        Options keys = new Options(HashAlgo.SHA1, Optional.of(l.bank(HashAlgo.SHA1).value(10)), List.of(), false,
                List.of(tenantKey(rsa), tenantKey(ec)));
        Result r = KeylimeImaCheck.check(ascii(l), p, keys);
        assertThat(r.events()).isEmpty();
        assertThat(r.verifiedSignatures()).isEqualTo(2);
        assertThat(r.entries().get(1).why()).isEqualTo("signature verified");

        // Without the keys, or with another key, a signed file must be in digests like any other.
        Result noKeys = KeylimeImaCheck.check(ascii(l), p, pcr(l, HashAlgo.SHA1));
        assertThat(noKeys.events()).extracting(Event::message).containsExactly(
                "File not found in allowlist: /bin/rsa", "File not found in allowlist: /bin/ec");
        Options other = new Options(HashAlgo.SHA1, Optional.empty(), List.of(), false, List.of(tenantKey(keyPair("RSA"))));
        assertThat(KeylimeImaCheck.check(ascii(l), p, other).verifiedSignatures()).isZero();

        // A signature over other content does not vouch for this digest.
        MeasurementEntry forged = signedFile("/bin/rsa", "r", rsa, HashAlgo.SHA256);
        byte[] d = forged.field(0);
        d[d.length - 1] ^= 1;
        MeasurementEntry swapped = MeasurementEntry.of(10, Template.IMA_SIG, List.of(d, forged.field(1), forged.field(2)),
                false);
        MeasurementList bad = list(swapped);
        Result f = KeylimeImaCheck.check(ascii(bad), p, new Options(HashAlgo.SHA1,
                Optional.of(bad.bank(HashAlgo.SHA1).value(10)), List.of(), false, List.of(tenantKey(rsa))));
        assertThat(f.events()).extracting(Event::id).containsExactly("ima.validation.ima-ng.not_in_allowlist");
    }

    @Test
    void aKeyMeasuredOnAKeyringIsLearnedOnlyWhenTheKeyringsDigestAllowsIt() throws Exception {
        KeyPair rsa = keyPair("RSA");
        byte[] spki = rsa.getPublic().getEncoded();
        MeasuredDigest keyDigest = new MeasuredDigest(HashAlgo.SHA256, MessageDigest.getInstance("SHA-256").digest(spki));
        MeasurementEntry keyEntry = MeasurementEntry.create(10, Template.IMA_BUF,
                EventData.buffer(".ima", keyDigest, spki).build(), HashAlgo.SHA256);
        MeasurementList l = list(keyEntry, signedFile("/bin/rsa", "r", rsa, HashAlgo.SHA256));
        Options opts = pcr(l, HashAlgo.SHA1);
        RuntimePolicy allowed = new RuntimePolicy.Builder().digest("boot_aggregate", ZERO256)
                .keyring(".ima", hex(keyDigest)).build(Optional.empty());
        Result r = KeylimeImaCheck.check(ascii(l), allowed, opts);
        assertThat(r.events()).isEmpty();
        assertThat(r.verifiedSignatures()).isEqualTo(1);

        RuntimePolicy unknownKey = new RuntimePolicy.Builder().digest("boot_aggregate", ZERO256)
                .keyring(".ima", ZERO256).build(Optional.empty());
        assertThat(KeylimeImaCheck.check(ascii(l), unknownKey, opts).events()).extracting(Event::message)
                .containsExactly("Hash not found in runtime policy (got " + hex(keyDigest) + ", expected [" + ZERO256 + "])",
                        "File not found in allowlist: /bin/rsa");
        RuntimePolicy ignored = new RuntimePolicy.Builder().digest("boot_aggregate", ZERO256).ignoredKeyring("*")
                .build(Optional.empty());
        Result ig = KeylimeImaCheck.check(ascii(l), ignored, opts);
        assertThat(ig.entries().get(1).verdict()).isEqualTo(Verdict.SKIPPED);
        assertThat(ig.events()).extracting(Event::message).containsExactly("File not found in allowlist: /bin/rsa");
    }

    @Test
    void pythonSplitAndFromhexSemantics() {
        assertThat(PyText.split(" 4 ab", ' ', 3)).containsExactly("", "4", "ab");
        assertThat(PyText.split("a b c d e", ' ', 3)).containsExactly("a", "b", "c", "d e");
        assertThat(PyText.split("a  b", ' ', 1)).containsExactly("a", " b");
        assertThat(PyText.split("a b ", ' ', 2)).containsExactly("a", "b", "");
        assertThat(PyText.fromHex("0aFF")).hasValueSatisfying(b -> assertThat(b).containsExactly(0x0a, 0xff));
        assertThat(PyText.fromHex("0a ff")).isPresent();
        assertThat(PyText.fromHex("0 aff")).isEmpty();
        assertThat(PyText.fromHex("abc")).isEmpty();
        assertThat(PyText.fromHex("zz")).isEmpty();
        assertThat(PyText.fromHex("")).hasValueSatisfying(b -> assertThat(b).isEmpty());
    }
}
