package dev.imans.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imans.cli.oci.JsonReader;
import dev.imans.cli.oci.JsonValue;
import dev.imans.cli.oci.JsonValue.JsonArray;
import dev.imans.cli.oci.JsonValue.JsonNull;
import dev.imans.cli.oci.JsonValue.JsonNumber;
import dev.imans.cli.oci.JsonValue.JsonObject;
import dev.imans.cli.oci.JsonValue.JsonString;
import dev.imans.crypto.HashAlgo;
import dev.imans.measure.BinaryList;
import dev.imans.measure.EventData;
import dev.imans.measure.MeasuredDigest;
import dev.imans.measure.MeasurementEntry;
import dev.imans.measure.MeasurementList;
import dev.imans.measure.Template;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code imans keylime-policy} and {@code verify}: policies written are checked member by member
 * against the rules of Keylime's {@code RUNTIME_POLICY_SCHEMA}; a policy in the form Keylime's own
 * tool writes is read and applied; the kernel's own list (6.1, ima-sig, no TPM, two violations) is
 * judged as Keylime's verifier would.
 */
class KeylimePolicyCommandTest {
    /** The kernel list's PCR 10 (see MeasurementsCommandTest), violations extended with 0xff. */
    static final String PCR10_SHA1 = MeasurementsCommandTest.PCR10_SHA1;
    static final String PCR10_SHA256 = MeasurementsCommandTest.PCR10_SHA256;
    private static final HexFormat HEX = HexFormat.of();

    @TempDir
    Path dir;

    static byte[] resource(String name) throws IOException {
        try (InputStream in = KeylimePolicyCommandTest.class.getResourceAsStream(name)) {
            return in.readAllBytes();
        }
    }

    Path write(String name, byte[] data) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, data);
        return p;
    }

    static String sha(String algo, String content) throws Exception {
        return HEX.formatHex(MessageDigest.getInstance(algo).digest(content.getBytes(StandardCharsets.UTF_8)));
    }

    static JsonObject json(String text) throws Exception {
        return (JsonObject) JsonReader.parse(text.getBytes(StandardCharsets.UTF_8));
    }

    static JsonValue at(JsonObject o, String... path) {
        JsonValue v = o;
        for (String k : path) {
            v = ((JsonObject) v).members().get(k);
        }
        return v;
    }

    static List<String> strings(JsonValue v) {
        return ((JsonArray) v).elements().stream().map(e -> ((JsonString) e).value()).toList();
    }

    /**
     * Keylime's RUNTIME_POLICY_SCHEMA (keylime/ima/ima.py) as assertions, plus what its verifier
     * needs to expect a list at all (generator above EmptyAllowList).
     */
    static void assertKeylimeSchema(JsonObject p) {
        assertThat(p.members().keySet()).containsExactly("meta", "release", "digests", "excludes", "keyrings", "ima",
                "ima-buf", "verification-keys");
        JsonObject meta = (JsonObject) p.members().get("meta");
        assertThat(meta.members().keySet()).contains("version", "generator");
        assertThat(((JsonNumber) meta.members().get("version")).asLong()).hasValue(1);
        assertThat(((JsonNumber) meta.members().get("generator")).asLong().orElseThrow()).isBetween(2L, 3L);
        if (meta.members().containsKey("timestamp")) {
            assertThat(meta.members().get("timestamp")).isInstanceOf(JsonString.class);
        }
        assertThat(((JsonNumber) p.members().get("release")).asLong().orElseThrow()).isNotNegative();
        for (String m : List.of("digests", "keyrings", "ima-buf")) {
            for (JsonValue v : ((JsonObject) p.members().get(m)).members().values()) {
                assertThat(strings(v)).isNotEmpty().allMatch(d -> d.matches("^[0-9a-f]{40,128}$"));
            }
        }
        assertThat(((JsonArray) p.members().get("excludes")).elements()).allMatch(e -> e instanceof JsonString);
        JsonObject ima = (JsonObject) p.members().get("ima");
        assertThat(ima.members().keySet()).contains("ignored_keyrings", "log_hash_alg", "dm_policy");
        assertThat(((JsonArray) ima.members().get("ignored_keyrings")).elements()).allMatch(e -> e instanceof JsonString);
        assertThat(((JsonString) ima.members().get("log_hash_alg")).value()).isIn("sha1", "sha256", "sha384", "sha512");
        assertThat(ima.members().get("dm_policy")).isInstanceOf(JsonNull.class);
        assertThat(p.members().get("verification-keys")).isInstanceOf(JsonString.class);
        String keys = ((JsonString) p.members().get("verification-keys")).value();
        if (!keys.isEmpty()) {
            // IMA_KEYRING_JSON_SCHEMA (keylime/ima/file_signatures.py).
            JsonObject ring;
            try {
                ring = json(keys);
            } catch (Exception e) {
                throw new AssertionError("verification-keys is not JSON: " + keys, e);
            }
            assertThat(ring.members().keySet()).contains("keyids", "pubkeys");
            assertThat(((JsonArray) ring.members().get("keyids")).elements())
                    .allMatch(e -> e instanceof JsonNumber n && n.asLong().isPresent());
            assertThat(((JsonArray) ring.members().get("pubkeys")).elements()).allMatch(e -> e instanceof JsonString);
        }
    }

    @Test
    void aLabelledTreeGivesEachFileInItsLabelsAlgorithmNamedAsTheContainerSeesIt() throws Exception {
        try (ScratchFs fs = new ScratchFs(Files.createDirectories(dir.resolve("rootfs")))) {
            Path root = fs.dir();
            Files.createDirectories(root.resolve("usr/bin"));
            Files.createDirectories(root.resolve("etc"));
            Files.writeString(root.resolve("usr/bin/app"), "app");
            Files.writeString(root.resolve("etc/app.conf"), "conf");
            Files.writeString(root.resolve("etc/two words"), "spaced");
            Files.writeString(root.resolve("etc/sha3"), "three");
            Files.writeString(root.resolve("unlabelled"), "plain");
            Files.createSymbolicLink(root.resolve("usr/bin/link"), Path.of("app"));
            assertThat(Tools.imans("hash", "--set", root.resolve("usr/bin/app").toString()).rc()).isZero();
            assertThat(Tools.imans("hash", "-a", "sha512", "--set", root.resolve("etc/app.conf").toString()).rc()).isZero();
            assertThat(Tools.imans("hash", "-a", "sha1", "--set", root.resolve("etc/two words").toString()).rc()).isZero();
            assertThat(Tools.imans("hash", "-a", "sha3-256", "--set", root.resolve("etc/sha3").toString()).rc()).isZero();

            // A live root's /proc is no content (and /proc/kmsg would block a reader).
            Files.createDirectories(root.resolve("proc"));
            assertThat(Tools.run("mount", "-t", "proc", "proc", root.resolve("proc").toString()).rc()).isZero();
            CliRun r;
            try {
                r = CliRun.of("keylime-policy", "--root", root.toString(), "--exclude", "^/tmp/", "--exclude", "/var/log/.*");
            } finally {
                assertThat(Tools.run("umount", root.resolve("proc").toString()).rc()).isZero();
            }
            assertThat(r.exitCode()).as(r.stderr()).isZero();
            JsonObject p = json(r.out());
            assertKeylimeSchema(p);
            JsonObject digests = (JsonObject) p.members().get("digests");
            assertThat(digests.members().keySet()).containsExactly("/etc/app.conf", "/etc/sha3", "/etc/two_words",
                    "/unlabelled", "/usr/bin/app", "boot_aggregate");
            // Past Linux 6.1's hash_algo list: the kernel measures it in ima_hash, and so does the policy.
            assertThat(strings(at(p, "digests", "/etc/sha3"))).containsExactly(sha("SHA-256", "three"));
            assertThat(strings(at(p, "digests", "/usr/bin/app"))).containsExactly(sha("SHA-256", "app"));
            assertThat(strings(at(p, "digests", "/etc/app.conf"))).containsExactly(sha("SHA-512", "conf"));
            assertThat(strings(at(p, "digests", "/etc/two_words"))).containsExactly(sha("SHA-1", "spaced"));
            assertThat(strings(at(p, "digests", "/unlabelled"))).containsExactly(sha("SHA-256", "plain"));
            assertThat(strings(at(p, "digests", "boot_aggregate"))).containsExactly("0".repeat(64));
            assertThat(strings(at(p, "excludes"))).containsExactly("/var/log/.*", "^/tmp/");
            assertThat(at(p, "ima", "log_hash_alg")).isEqualTo(new JsonString("sha1"));
            assertThat(((JsonObject) at(p, "keyrings")).members()).isEmpty();
            assertThat(at(p, "verification-keys")).isEqualTo(new JsonString(""));
            // What we write, we read back with the same rules.
            assertThat(KeylimePolicyJson.read(r.stdout()).digests()).hasSize(6);

            // --tree keeps the tree's own path unless --prefix says otherwise; --algo overrides labels.
            CliRun own = CliRun.of("keylime-policy", "--tree", root.resolve("usr").toString(),
                    "--tree", root.resolve("etc").toString(), "--prefix", "/opt/app/etc", "--algo", "sha1");
            assertThat(own.exitCode()).as(own.stderr()).isZero();
            JsonObject q = json(own.out());
            assertKeylimeSchema(q);
            assertThat(((JsonObject) q.members().get("digests")).members().keySet()).containsExactly(
                    "/opt/app/etc/app.conf", "/opt/app/etc/sha3", "/opt/app/etc/two_words",
                    root.resolve("usr/bin/app").toString(),
                    "boot_aggregate");
            assertThat(strings(at(q, "digests", "/opt/app/etc/app.conf"))).containsExactly(sha("SHA-1", "conf"));
            assertThat(strings(at(q, "digests", "boot_aggregate"))).containsExactly("0".repeat(40));

            CliRun none = CliRun.of("keylime-policy", "--root", root.toString(), "--boot-aggregate", "none");
            assertThat(json(none.out()).members().get("digests")).matches(d -> !((JsonObject) d).members()
                    .containsKey("boot_aggregate"));
        }
    }

    @Test
    void aPolicyAsKeylimesToolWritesItIsReadAndTheKernelsListPassesIt() throws Exception {
        Path policy = write("keylime.json", resource("keylime/runtime-policy.json"));
        Path ascii = write("ascii_runtime_measurements", resource("ascii_runtime_measurements"));
        Path binary = write("binary_runtime_measurements", resource("binary_runtime_measurements"));
        for (Path list : List.of(ascii, binary)) {
            CliRun r = CliRun.of("keylime-policy", "verify", "--policy", policy.toString(), "--list", list.toString(),
                    "--pcr", PCR10_SHA1);
            assertThat(r.exitCode()).as(r.out() + r.stderr()).isZero();
            assertThat(r.out()).contains("PASS boot_aggregate (line 1)\n", "PASS /data/signed (line 5)\n",
                    "SKIP /data/w: ToMToU entry: template hash validation skipped (line 8)\n",
                    "SKIP /sys/kernel/security/integrity/ima/violations: excluded (matches excludes) (line 13)\n",
                    "PCR-10 sha1: " + PCR10_SHA1 + " (--pcr matched after 13 entries)\n")
                    .endsWith("OK: Keylime would accept this list (13 entries)\n");
        }
        CliRun sha256 = CliRun.of("keylime-policy", "verify", "--policy", policy.toString(), "--list", ascii.toString(),
                "--bank", "sha256", "--pcr", PCR10_SHA256, "-q");
        assertThat(sha256.exitCode()).as(sha256.out()).isZero();
        assertThat(sha256.out()).isEqualTo("PCR-10 sha256: " + PCR10_SHA256 + " (--pcr matched after 13 entries)\n"
                + "OK: Keylime would accept this list (13 entries)\n");
        // The same list, ToMToU entries counted as Keylime does with ignore_tomtou_errors set.
        CliRun tomtou = CliRun.of("keylime-policy", "verify", "--policy", policy.toString(), "--list", ascii.toString(),
                "--ignore-tomtou-errors", "-q");
        assertThat(tomtou.exitCode()).isEqualTo(1);
        assertThat(tomtou.out()).contains("FAIL /data/w: ima.validation.tomtou: hash validation was skipped (line 8)");

        // Merging keeps everything the Keylime policy holds and stays within the schema.
        CliRun merged = CliRun.of("keylime-policy", "--merge", policy.toString(), "--exclude", "^/proc/");
        assertThat(merged.exitCode()).as(merged.stderr()).isZero();
        JsonObject m = json(merged.out());
        assertKeylimeSchema(m);
        assertThat(strings(at(m, "digests", "/data/a"))).hasSize(2);
        assertThat(strings(at(m, "excludes"))).containsExactly("/sys/kernel/security/", "^/proc/");
        assertThat(strings(at(m, "keyrings", ".ima"))).hasSize(1);
        assertThat(strings(at(m, "ima", "ignored_keyrings"))).containsExactly(".builtin_trusted_keys");
    }

    @Test
    void aPolicyFromTheListItselfPassesItAndAChangedPcrOrDigestFails() throws Exception {
        Path ascii = write("ascii_runtime_measurements", resource("ascii_runtime_measurements"));
        Path binary = write("binary_runtime_measurements", resource("binary_runtime_measurements"));
        CliRun fromAscii = CliRun.of("keylime-policy", "--list", ascii.toString());
        CliRun fromBinary = CliRun.of("keylime-policy", "--list", binary.toString());
        assertThat(fromAscii.exitCode()).as(fromAscii.stderr()).isZero();
        JsonObject a = json(fromAscii.out());
        assertKeylimeSchema(a);
        assertThat(((JsonObject) at(a, "digests")).members()).isEqualTo(((JsonObject) at(json(fromBinary.out()),
                "digests")).members());
        assertThat(strings(at(a, "digests", "/data/a"))).hasSize(2);
        // Violations carry no digest: /data/w has only its real one.
        assertThat(strings(at(a, "digests", "/data/w"))).containsExactly(
                "cf945b5236e101dbe0471d5200f28b1ae64f21c1f35bf55fcf40cd0fe42cd8e7");
        Path policy = write("p.json", fromAscii.stdout());

        CliRun pcr = CliRun.of("measurements", "pcrs", "--format", "keylime", ascii.toString());
        assertThat(pcr.exitCode()).as(pcr.stderr()).isZero();
        assertThat(pcr.out()).isEqualTo(PCR10_SHA1 + "\n");
        assertThat(CliRun.of("measurements", "pcrs", "--format", "keylime", "--bank", "sha256", binary.toString()).out())
                .isEqualTo(PCR10_SHA256 + "\n");
        assertThat(CliRun.of("keylime-policy", "verify", "--policy", policy.toString(), "--list", ascii.toString(),
                "--pcr", pcr.out().strip()).exitCode()).isZero();

        CliRun wrongPcr = CliRun.of("keylime-policy", "verify", "--policy", policy.toString(), "--list", ascii.toString(),
                "--pcr", PCR10_SHA1.replace('5', '6'), "-q");
        assertThat(wrongPcr.exitCode()).isEqualTo(1);
        assertThat(wrongPcr.out()).endsWith("FAIL: Keylime would not accept this list: 1 event(s); ima.pcr_mismatch: "
                + "IMA measurement list does not match TPM PCR " + PCR10_SHA1.replace('5', '6') + "\n");

        // A list line changed after the fact: its template hash no longer matches, and the PCR neither.
        String text = Files.readString(ascii).replace("/data/hashed", "/data/hasheD");
        Path changed = write("changed", text.getBytes(StandardCharsets.UTF_8));
        CliRun r = CliRun.of("keylime-policy", "verify", "--policy", policy.toString(), "--list", changed.toString(),
                "--pcr", PCR10_SHA1, "-q");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.out()).startsWith("FAIL /data/hasheD: ima.validation.ima_hash: IMA template hash does not match "
                + "the calculated hash. (line 6)\nIMA ERRORS: Some entries couldn't be validated. Number of failures in "
                + "modes: ImaSig 1\n");
        assertThat(r.out()).contains("ima.pcr_mismatch");
    }

    @Test
    void schemaViolationsAreRefusedWithTheMemberNamed() throws Exception {
        String good = new String(resource("keylime/runtime-policy.json"), StandardCharsets.UTF_8);
        Map<String, String> cases = Map.of(
                good.replace(", \"ima-buf\": {}", ""), "'ima-buf' is a required property",
                good.replace("\"generator\": 3", "\"generator\": 4"), "meta.generator: 4 is not in 0..3",
                good.replace("\"release\": 0", "\"release\": 0.5"), "release: 0.5 is not an integer",
                good.replace("\"log_hash_alg\": \"sha1\"", "\"log_hash_alg\": \"md5\""),
                "ima.log_hash_alg: 'md5' is not one of",
                good.replace("\"dm_policy\": null", "\"dm_policy\": {}"), "ima.dm_policy: must be null",
                good.replace("\"/data/empty\": [\"e3b0c4", "\"/data/empty\": [\"E3B0C4"),
                "digests[\"/data/empty\"]: 'E3B0C4",
                good.replace("\"ima-buf\": {}", "\"ima-buf\": {\"x\": []}"), "ima-buf[\"x\"]: [] should be non-empty",
                good.replace("\"verification-keys\": \"\"", "\"verification-keys\": \"{\\\"keyids\\\": [\\\"a\\\"], \\\"pubkeys\\\": []}\""),
                "verification-keys.keyids[]: must be an integer",
                good.replace("\"excludes\": [\"/sys/kernel/security/\"]", "\"excludes\": \"/sys\""),
                "excludes: must be an array, not string");
        for (var c : cases.entrySet()) {
            Path p = write("bad.json", c.getKey().getBytes(StandardCharsets.UTF_8));
            CliRun r = CliRun.of("keylime-policy", "--merge", p.toString());
            assertThat(r.exitCode()).as(c.getValue()).isEqualTo(1);
            assertThat(r.stderr()).startsWith("imans keylime-policy: " + p + ": not a Keylime runtime policy: ")
                    .contains(c.getValue());
        }
        // JSON Schema's integer: 1.0 is one.
        Path p = write("float.json", good.replace("\"version\": 1", "\"version\": 1.0").getBytes(StandardCharsets.UTF_8));
        assertThat(CliRun.of("keylime-policy", "--merge", p.toString()).exitCode()).isZero();
    }

    @Test
    void listsKeylimeCannotParseAndBadArgumentsAreRefused() throws Exception {
        MeasurementList l = new MeasurementList();
        l.add(MeasurementEntry.create(10, Template.IMA_NGV2, EventData.file("/a",
                new MeasuredDigest(HashAlgo.SHA256, new byte[32])).build(), HashAlgo.SHA256));
        Path v2 = write("v2", BinaryList.write(l.snapshot().entries(), HashAlgo.SHA1));
        CliRun r = CliRun.of("keylime-policy", "--list", v2.toString());
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.stderr()).contains("ima-ngv2 entries cannot be checked by Keylime");
        assertThat(CliRun.of("keylime-policy").exitCode()).isEqualTo(2);
        CliRun badRegex = CliRun.of("keylime-policy", "--list", write("a", resource("ascii_runtime_measurements"))
                .toString(), "--exclude", "(unclosed");
        assertThat(badRegex.exitCode()).isEqualTo(2);
        assertThat(badRegex.stderr()).contains("--exclude '(unclosed' is not a regular expression");
        CliRun shortPcr = CliRun.of("keylime-policy", "verify", "--policy", "p", "--list", "l", "--pcr", "abcd");
        assertThat(shortPcr.exitCode()).isEqualTo(2);
        assertThat(shortPcr.stderr()).contains("--pcr has 2 bytes, a sha1 PCR has 20");
    }
}
