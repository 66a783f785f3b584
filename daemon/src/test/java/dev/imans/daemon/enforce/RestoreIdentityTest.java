package dev.imans.daemon.enforce;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imans.ns.AppraiseSetting;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A restart restores a namespace only if it is still the one that was saved: nsfs inode numbers are
 * reused at once, so the journal also holds each namespace's 64-bit id and the boot id.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class RestoreIdentityTest {
    private static final String POLICY = "measure func=FILE_CHECK fsmagic=0x01021994\nappraise fsmagic=0x01021994\n";
    /** Namespaces made while hunting for a reused inode number; bounded so a busy machine cannot loop forever. */
    private static final int MAX_TRIES = 40;

    private DaemonFixture daemon;
    private final List<Namespace> strangers = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (Namespace n : strangers) {
            n.close();
        }
        if (daemon != null) {
            daemon.close();
        }
    }

    private Path state() {
        return daemon.base.resolve("state/state");
    }

    private Path dir(long nsid) {
        return daemon.control.resolve(Long.toString(nsid));
    }

    /** Registers a namespace with POLICY in force, and a measurement of /tmp/m in its list. */
    private Namespace withPolicyAndList() throws Exception {
        Namespace ns = daemon.registered();
        ns.shOk("echo hello > /tmp/m && setfattr -n security.ima -v 0x0404"
                + "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03 /tmp/m");
        daemon.policy(ns, POLICY);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (Files.readString(dir(ns.nsid).resolve("policy")).isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        ns.shOk("cat /tmp/m");
        assertThat(Files.readString(dir(ns.nsid).resolve("ascii_runtime_measurements"))).contains(" /tmp/m\n");
        return ns;
    }

    private long savedId(long nsid) throws Exception {
        Matcher m = Pattern.compile("(?m)^namespace " + nsid + " id (\\d+)$").matcher(Files.readString(state()));
        assertThat(m.find()).as("journal names %s with its id", nsid).isTrue();
        return Long.parseUnsignedLong(m.group(1));
    }

    @Test
    void aNamespaceThatGotAnEndedNamespacesNumberInheritsNothing() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Namespace kept = withPolicyAndList();
        Namespace gone = withPolicyAndList();
        long goneId = savedId(gone.nsid);
        assertThat(Files.readString(state())).containsPattern("(?m)^boot [0-9a-f-]{36}$");

        daemon.stop();
        gone.close();
        Namespace stranger = null;
        for (int i = 0; i < MAX_TRIES && stranger == null; i++) {
            Namespace n = new Namespace();
            strangers.add(n);
            if (n.nsid == gone.nsid) {
                stranger = n;
            }
        }
        if (stranger == null) {
            // Another process on this machine took the number first: make the journal claim one of ours
            // with the ended namespace's 64-bit id, which is the collision a reused number produces.
            stranger = strangers.get(0);
            String text = Files.readString(state()).replace("namespace " + gone.nsid + " id ",
                    "namespace " + stranger.nsid + " id ");
            Files.writeString(state(), text);
            System.err.println("inode " + gone.nsid + " not reused within " + MAX_TRIES
                    + " namespaces; journal edited to claim " + stranger.nsid);
        }
        assertThat(Files.readString(state())).contains("namespace " + stranger.nsid + " id " + goneId + "\n");

        daemon.start();
        // The namespace saved and still alive is back with its policy and list.
        assertThat(Files.readString(dir(kept.nsid).resolve("policy"), StandardCharsets.UTF_8)).isNotEmpty();
        assertThat(Files.readString(dir(kept.nsid).resolve("ascii_runtime_measurements"))).contains(" /tmp/m\n");
        assertThat(kept.sh("echo x >> /tmp/m; cat /tmp/m").exit()).isNotZero();
        // The stranger is not registered, has no policy and no list; its files are the host's business.
        assertThat(dir(stranger.nsid)).doesNotExist();
        assertThat(Files.readString(state())).doesNotContain("namespace " + stranger.nsid);
        stranger.shOk("echo unlabelled > /tmp/u && cat /tmp/u");
        daemon.register(stranger);
        assertThat(Files.readString(dir(stranger.nsid).resolve("policy"))).isEmpty();
        assertThat(Files.readString(dir(stranger.nsid).resolve("ascii_runtime_measurements")).lines()).hasSize(1);
        assertThat(savedId(stranger.nsid)).isNotEqualTo(goneId);
    }

    @Test
    void aStateFileWithoutIdentitiesKeepsTheHostPolicyAndDropsItsNamespaces() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Namespace ns = withPolicyAndList();
        Files.writeString(daemon.control.resolve("policy"), "measure func=BPRM_CHECK fsmagic=0xEF53\n");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!Files.readString(state()).contains("\tmeasure func=BPRM_CHECK") && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        daemon.stop();
        // The first format: no boot line, no ids.
        String v1 = Files.readString(state()).replace("imans-state 2", "imans-state 1")
                .replaceAll("(?m)^boot .*\n", "").replaceAll("(?m)^(namespace \\d+) id \\d+$", "$1");
        assertThat(v1).contains("namespace " + ns.nsid + "\n");
        Files.writeString(state(), v1);
        daemon.start();
        assertThat(Files.readString(daemon.control.resolve("policy"))).contains("measure func=BPRM_CHECK");
        assertThat(dir(ns.nsid)).doesNotExist();
        assertThat(daemon.base.resolve("state/measurements/" + ns.nsid + ".list")).doesNotExist();
    }

    @Test
    void aStateFileFromAnotherBootDropsItsNamespaces() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Namespace ns = withPolicyAndList();
        daemon.stop();
        Files.writeString(state(), Files.readString(state())
                .replaceAll("(?m)^boot .*$", "boot 00000000-0000-4000-8000-000000000000"));
        daemon.start();
        assertThat(dir(ns.nsid)).doesNotExist();
    }
}
