package dev.imans.daemon.enforce;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imans.audit.AuditField;
import dev.imans.audit.ParsedRecord;
import dev.imans.ns.AppraiseSetting;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The seed's session, automated: a shell script in a new mount namespace labels a tmpfs file, registers
 * its namespace through the control filesystem, writes the seed's policy, reads the file, tampers with
 * it and is refused, with exactly the seed's audit record.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SeedScenarioTest {
    private static final String SCRIPT = """
            set -u
            IMA=%s
            mount -t tmpfs tmpfs /tmp
            echo hello > /tmp/foo
            chown 71452 /tmp/foo
            setfattr -n security.ima -v 0x0404$(sha256sum /tmp/foo | cut -d' ' -f1) /tmp/foo
            nsid=$(readlink /proc/self/ns/mnt | sed 's/[^0-9]//g')
            echo "nsid=$nsid"
            echo "ino=$(stat -c %%i /tmp/foo)"
            echo ${nsid} > $IMA/namespaces
            printf "appraise fsmagic=0x01021994 fowner=71452\\nappraise func=MODULE_CHECK" > $IMA/$nsid/policy
            echo "policy=$?"
            echo "cat1=$(cat /tmp/foo)"
            echo foo > /tmp/foo
            echo "write=$?"
            sh -c 'echo "catpid=$$"; exec cat /tmp/foo' 2>/tmp/cat.err
            echo "cat2=$?"
            echo "cat2err=$(cat /tmp/cat.err)"
            echo READY
            exec sleep 600
            """;

    private DaemonFixture daemon;
    private Process session;
    private Namespace other;

    @AfterEach
    void tearDown() throws Exception {
        if (session != null) {
            session.destroyForcibly();
            session.waitFor(10, TimeUnit.SECONDS);
        }
        if (other != null) {
            other.close();
        }
        if (daemon != null) {
            daemon.close();
        }
    }

    @Test
    void seedSessionDeniesTheTamperedFileWithTheSeedsAuditRecord() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Map<String, String> out = runSession();

        assertThat(out.get("policy")).isEqualTo("0");
        assertThat(out.get("cat1")).isEqualTo("hello");
        assertThat(out.get("write")).isEqualTo("0");
        assertThat(out.get("cat2")).isEqualTo("1");
        assertThat(out.get("cat2err")).isEqualTo("cat: /tmp/foo: Operation not permitted");

        List<ParsedRecord> records = daemon.appraisalRecords();
        assertThat(records).hasSize(1);
        ParsedRecord r = records.getFirst();
        assertThat(r.typeNumber()).isEqualTo(1800);
        assertThat(r.fields().stream().map(AuditField::key)).containsExactly(
                "pid", "uid", "auid", "ses", "op", "cause", "comm", "name", "mnt_ns", "dev", "ino", "res");
        assertThat(r.value("pid")).contains(out.get("catpid"));
        assertThat(r.value("uid")).contains("0");
        assertThat(r.value("auid")).contains(procSelf("loginuid"));
        assertThat(r.value("ses")).contains(procSelf("sessionid"));
        assertThat(r.field("op").orElseThrow().written()).isEqualTo("\"appraise_data\"");
        assertThat(r.field("cause").orElseThrow().written()).isEqualTo("\"invalid-hash\"");
        assertThat(r.field("comm").orElseThrow().written()).isEqualTo("\"cat\"");
        assertThat(r.field("name").orElseThrow().written()).isEqualTo("\"/tmp/foo\"");
        assertThat(r.value("mnt_ns")).contains(out.get("nsid"));
        assertThat(r.field("dev").orElseThrow().written()).isEqualTo("\"tmpfs\"");
        assertThat(r.value("ino")).contains(out.get("ino"));
        assertThat(r.value("res")).contains("0");
    }

    @Test
    void theHostAndOtherNamespacesKeepTheirOwnDecisions() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Map<String, String> first = runSession();
        Path foo = Path.of("/proc/" + session.pid() + "/root/tmp/foo");

        // The host has no policy: it reads the tampered file.
        assertThat(Run.run("cat", foo.toString())).extracting(Run.Result::exit, Run.Result::out).containsExactly(0, "foo\n");
        // So does a namespace nobody registered.
        Run.Result unregistered = Run.run("unshare", "-m", "cat", foo.toString());
        assertThat(unregistered.exit()).isZero();
        assertThat(unregistered.out()).isEqualTo("foo\n");

        // A second registered namespace with another policy: root-owned tmpfs files must be labelled.
        other = new Namespace();
        other.shOk("echo bar > /tmp/bar; echo bar > /tmp/labelled; "
                + "setfattr -n security.ima -v 0x0404$(sha256sum /tmp/labelled | cut -d' ' -f1) /tmp/labelled");
        daemon.register(other);
        daemon.policy(other, "appraise fsmagic=0x01021994 fowner=0\n");
        assertThat(other.sh("cat /tmp/bar").err()).contains("Operation not permitted");
        assertThat(other.sh("cat /tmp/labelled").out()).isEqualTo("bar\n");
        // Its policy does not cover uid 71452's files: the first namespace's tampered file opens there...
        assertThat(other.sh("cat " + foo).out()).isEqualTo("foo\n");
        // ...and the first namespace's policy does not cover root's files: /tmp/bar opens from there.
        Run.Result fromFirst = Run.run("nsenter", "-t", Long.toString(session.pid()), "-m", "cat",
                other.hostPath("/tmp/bar").toString());
        assertThat(fromFirst.exit()).isZero();
        assertThat(fromFirst.out()).isEqualTo("bar\n");

        List<ParsedRecord> records = daemon.appraisalRecords();
        assertThat(records).extracting(r -> r.value("mnt_ns").orElseThrow() + " " + r.value("cause").orElseThrow()
                + " " + r.value("name").orElseThrow())
                .containsExactly(
                        first.get("nsid") + " invalid-hash /tmp/foo",
                        other.nsid + " missing-hash /tmp/bar");
    }

    private Map<String, String> runSession() throws Exception {
        session = new ProcessBuilder("unshare", "-m", "--propagation", "private", "sh", "-c",
                SCRIPT.formatted(daemon.control)).redirectErrorStream(true).start();
        BufferedReader r = new BufferedReader(new InputStreamReader(session.getInputStream(), StandardCharsets.UTF_8));
        Map<String, String> out = CompletableFuture.supplyAsync(() -> {
            Map<String, String> m = new HashMap<>();
            try {
                String line;
                while ((line = r.readLine()) != null && !line.equals("READY")) {
                    int eq = line.indexOf('=');
                    m.put(eq < 0 ? line : line.substring(0, eq), eq < 0 ? "" : line.substring(eq + 1));
                }
            } catch (IOException e) {
                m.put("error", e.toString());
            }
            return m;
        }).get(60, TimeUnit.SECONDS);
        assertThat(out).containsKeys("nsid", "ino", "cat2");
        return out;
    }

    private static String procSelf(String file) throws IOException {
        return Files.readString(Path.of("/proc/self/" + file)).strip();
    }
}
