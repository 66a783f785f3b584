package dev.imans.daemon.enforce;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imans.audit.ParsedRecord;
import dev.imans.ns.AppraiseSetting;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A mount namespace made inside a registered one stays under its policy: real {@code unshare -m},
 * {@code unshare -U -r -m} as an unprivileged user, nested namespaces, real tmpfs files and binaries.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class LineageTest {
    private static final String TMPFS_POLICY = "appraise fsmagic=0x01021994\n";
    private static final String HELLO_SHA256 = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";

    private DaemonFixture daemon;
    private Process extra;

    @AfterEach
    void tearDown() throws Exception {
        if (extra != null) {
            extra.destroyForcibly();
            extra.waitFor(10, TimeUnit.SECONDS);
        }
        if (daemon != null) {
            daemon.close();
        }
    }

    /** A registered namespace with an unlabelled /tmp/f, a labelled /tmp/g and an unlabelled binary /tmp/t. */
    private Namespace withFiles(String policy) throws Exception {
        Namespace ns = daemon.registered();
        ns.shOk("echo hello > /tmp/f && echo hello > /tmp/g && setfattr -n security.ima -v 0x0404" + HELLO_SHA256
                + " /tmp/g && cp /bin/true /tmp/t && chmod 755 /tmp/t");
        if (!policy.isEmpty()) {
            policy(ns, policy);
        }
        return ns;
    }

    /** Writes {@code text} to the namespace's policy: in force (it reads back) when the close returns. */
    private void policy(Namespace ns, String text) throws Exception {
        policy(ns.nsid, text);
    }

    private void policy(long nsid, String text) throws Exception {
        Path file = daemon.control.resolve(nsid + "/policy");
        String before = Files.readString(file);
        Files.writeString(file, text);
        assertThat(Files.readString(file)).as("policy of " + nsid + " committed").isNotEqualTo(before);
    }

    private static void assertDenied(Run.Result r) {
        assertThat(r.exit()).as(r.toString()).isNotZero();
        assertThat(r.err()).contains("Operation not permitted");
    }

    private static void assertHello(Run.Result r) {
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).isEqualTo("hello\n");
    }

    @Test
    void unshareInsideARegisteredNamespaceKeepsItsPolicy() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Namespace ns = withFiles(TMPFS_POLICY);
        assertDenied(ns.sh("cat /tmp/f"));

        assertDenied(ns.sh("unshare -m cat /tmp/f"));
        assertDenied(ns.sh("unshare -m /tmp/t"));
        assertDenied(ns.sh("unshare -m unshare -m cat /tmp/f"));
        // Exec'd by the shell nsenter started: the opener's parent is on the host, only its mounts tie it.
        assertDenied(ns.sh("exec unshare -m cat /tmp/f"));
        assertDenied(ns.sh("unshare -m --propagation unchanged cat /tmp/f"));
        assertHello(ns.sh("unshare -m cat /tmp/g"));
        assertHello(ns.sh("unshare -m unshare -m cat /tmp/g"));

        List<ParsedRecord> records = daemon.appraisalRecords();
        assertThat(records).hasSizeGreaterThanOrEqualTo(5);
        // Each record names the opener's own namespace, not the registered one it is judged under.
        assertThat(records.subList(1, records.size())).allSatisfy(
                r -> assertThat(r.value("mnt_ns").orElseThrow()).isNotEqualTo(Long.toString(ns.nsid)));
        assertThat(records.stream().map(r -> r.value("cause").orElseThrow()).distinct()).containsExactly("missing-hash");
    }

    @Test
    void anUnprivilegedUserNamespaceDoesNotEscapeEither() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Namespace ns = withFiles(TMPFS_POLICY);
        // This machine must allow unprivileged user namespaces, or the test proves nothing.
        Run.Result probe = ns.sh("setpriv --reuid 65534 --regid 65534 --clear-groups unshare -U -r -m id -u");
        assertThat(probe.exit()).as(probe.toString()).isZero();
        assertThat(probe.out()).isEqualTo("0\n");

        assertDenied(ns.sh("setpriv --reuid 65534 --regid 65534 --clear-groups unshare -U -r -m cat /tmp/f"));
        assertDenied(ns.sh("setpriv --reuid 65534 --regid 65534 --clear-groups unshare -U -r -m /tmp/t"));
        assertHello(ns.sh("setpriv --reuid 65534 --regid 65534 --clear-groups unshare -U -r -m cat /tmp/g"));
    }

    @Test
    void aNamespaceMadeByAHostProcessIsJudgedByTheHostPolicyAlone() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Namespace ns = withFiles(TMPFS_POLICY);
        assertDenied(ns.sh("unshare -m cat /tmp/f"));
        // The same file, reached from a fresh namespace the host made: nothing ties it to the registered one.
        Path f = ns.hostPath("/tmp/f");
        assertHello(Run.run("unshare", "-m", "cat", f.toString()));
        assertHello(Run.run("unshare", "-m", "unshare", "-m", "cat", f.toString()));
    }

    @Test
    void aChildThatDropsTheParentsMountsIsTiedByAncestryAndItsOwnFilesystemsAreMarked() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Namespace ns = withFiles(TMPFS_POLICY);
        // The child unmounts the registered namespace's tmpfs and mounts its own: only its parent chain
        // (the shell in the registered namespace) ties it, and its tmpfs is unknown until it is learned.
        Run.Result r = ns.sh("unshare -m sh -c 'umount -l /tmp && mount -t tmpfs own /tmp && echo hello > /tmp/n"
                + " && i=0; while [ $i -lt 50 ]; do if cat /tmp/n >/dev/null 2>&1; then i=$((i+1)); sleep 0.1;"
                + " else echo refused; exit 0; fi; done; echo allowed'; true");
        assertThat(r.out()).as(r.toString()).isEqualTo("refused\n");
    }

    @Test
    void anOrphanAdoptedOutsideTheNamespaceIsStillTied() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Namespace ns = withFiles(TMPFS_POLICY);
        // No pid namespace here: once the shell in the child namespace exits, its background child is
        // adopted by a process on the host (pid 1 or a subreaper), so its parent chain no longer reaches
        // the registered namespace. It reads only after that.
        Path out = daemon.base.resolve("orphan");
        Path script = daemon.base.resolve("orphan.sh");
        Files.writeString(script, """
                parent=$$
                (
                  while kill -0 $parent 2>/dev/null; do sleep 0.05; done
                  read -r pid comm state ppid rest < /proc/self/stat
                  echo "$ppid" > OUT.ppid
                  cat /tmp/f > OUT.cat 2>&1
                  echo $? > OUT.tmp && mv OUT.tmp OUT.rc
                ) > /dev/null 2>&1 &
                exit 0
                """.replace("OUT", out.toString()));
        Run.Result r = ns.sh("unshare -m sh " + script);
        assertThat(r.exit()).as(r.toString()).isZero();
        Path rc = Path.of(out + ".rc");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!Files.exists(rc)) {
            assertThat(System.nanoTime()).as("the orphan never reported").isLessThan(deadline);
            Thread.sleep(50);
        }
        String adopter = Files.readString(Path.of(out + ".ppid")).strip();
        if (!adopter.equals("1")) {
            // pid 1's namespace link may not be readable even by root here; another adopter is a subreaper.
            assertThat(Files.readSymbolicLink(Path.of("/proc/" + adopter + "/ns/mnt")))
                    .as("adopted by a host process").isEqualTo(Files.readSymbolicLink(Path.of("/proc/self/ns/mnt")));
        }
        assertThat(Files.readString(rc)).as(Files.readString(Path.of(out + ".cat"))).isEqualTo("1\n");
        assertThat(Files.readString(Path.of(out + ".cat"))).contains("Operation not permitted");
    }

    @Test
    void aDescendantFollowsLaterPolicyWritesAndMeasuresIntoItsAncestorsList() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        // Covers only files owned by uid 4242 at first: /tmp/f is root's.
        Namespace ns = withFiles("appraise fsmagic=0x01021994 fowner=4242\nmeasure func=FILE_CHECK fsmagic=0x01021994\n");
        extra = new ProcessBuilder("nsenter", "-t", Integer.toString(ns.pid()), "-m", "unshare", "-m", "sleep", "600")
                .start();
        int child = (int) extra.pid();
        String childNs = eventuallyNamespaceOf(child, ns.nsid);
        Run.Result first = Run.run("nsenter", "-t", Integer.toString(child), "-m", "cat", "/tmp/f");
        assertHello(first);
        String list = Files.readString(daemon.control.resolve(ns.nsid + "/ascii_runtime_measurements"),
                StandardCharsets.UTF_8);
        assertThat(list).contains(" /tmp/f\n");

        // The ancestor's policy grows: the descendant is judged by it at once.
        policy(ns, TMPFS_POLICY);
        Run.Result second = Run.run("nsenter", "-t", Integer.toString(child), "-m", "cat", "/tmp/f");
        assertDenied(second);
        assertThat(daemon.appraisalRecords()).last()
                .satisfies(rec -> assertThat(rec.value("mnt_ns")).contains(childNs));
    }

    @Test
    void registeringADescendantDoesNotLiftItsAncestorsPolicy() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Namespace ns = withFiles(TMPFS_POLICY);
        extra = new ProcessBuilder("nsenter", "-t", Integer.toString(ns.pid()), "-m", "unshare", "-m", "sleep", "600")
                .start();
        int child = (int) extra.pid();
        long childNs = Long.parseLong(eventuallyNamespaceOf(child, ns.nsid));
        // Registered at once, with a policy that appraises nothing: the outer policy still judges it.
        Files.writeString(daemon.control.resolve("namespaces"), childNs + "\n");
        policy(childNs, "measure func=FILE_CHECK fsmagic=0x01021994\n");
        // The tie has a direction: the outer namespace is not judged by (nor measured into) the inner one's.
        assertHello(ns.sh("cat /tmp/g"));
        Path childList = daemon.control.resolve(childNs + "/ascii_runtime_measurements");
        assertThat(Files.readString(childList).lines()).hasSize(1);
        assertDenied(Run.run("nsenter", "-t", Integer.toString(child), "-m", "cat", "/tmp/f"));
        assertHello(Run.run("nsenter", "-t", Integer.toString(child), "-m", "cat", "/tmp/g"));
        assertThat(Files.readString(childList)).contains(" /tmp/g\n");
        // A registered namespace made by a host process is judged by its own policy alone.
        Namespace other = daemon.registered();
        other.shOk("echo hello > /tmp/f");
        assertHello(other.sh("cat /tmp/f"));
    }

    @Test
    void aRegisteredNamespaceStaysWhileADescendantLives() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Namespace ns = withFiles(TMPFS_POLICY);
        extra = new ProcessBuilder("nsenter", "-t", Integer.toString(ns.pid()), "-m", "unshare", "-m", "sleep", "600")
                .start();
        int child = (int) extra.pid();
        eventuallyNamespaceOf(child, ns.nsid);
        assertDenied(Run.run("nsenter", "-t", Integer.toString(child), "-m", "cat", "/tmp/f"));
        ns.close();
        // Several liveness scans: the registration is kept for the descendant, which is still refused.
        Thread.sleep(2000);
        assertThat(daemon.control.resolve(Long.toString(ns.nsid))).isDirectory();
        assertDenied(Run.run("nsenter", "-t", Integer.toString(child), "-m", "cat", "/tmp/f"));
        extra.destroyForcibly();
        extra.waitFor(10, TimeUnit.SECONDS);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (Files.isDirectory(daemon.control.resolve(Long.toString(ns.nsid))) && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(daemon.control.resolve(Long.toString(ns.nsid))).doesNotExist();
    }

    @Test
    void theNamespaceARegisteredOneWasCopiedFromIsNotItsDescendant() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        // A runtime's namespace (containerd's, run in a mount namespace of its own) mounts the container's
        // filesystem, then the container's namespace is copied from it and registered.
        Namespace runtime = daemon.fresh();
        runtime.shOk("mkdir -p /tmp/rootfs && mount -t tmpfs rootfs /tmp/rootfs && echo hello > /tmp/rootfs/f");
        extra = new ProcessBuilder("nsenter", "-t", Integer.toString(runtime.pid()), "-m", "unshare", "-m", "sleep",
                "600").start();
        int member = (int) extra.pid();
        long container = Long.parseLong(eventuallyNamespaceOf(member, runtime.nsid));
        // What the runtime then mounts inside the container's namespace only (its /dev, its /proc).
        assertHello(Run.run("nsenter", "-t", Integer.toString(member), "-m", "sh", "-c",
                "mkdir -p /tmp/rootfs/dev && mount -t tmpfs dev /tmp/rootfs/dev && echo hello"));
        Files.writeString(daemon.control.resolve("namespaces"), container + "\n");
        policy(container, TMPFS_POLICY);
        assertDenied(Run.run("nsenter", "-t", Integer.toString(member), "-m", "cat", "/tmp/rootfs/f"));
        // The runtime's own opens of the same files are the host's: its namespace existed before the container's.
        assertHello(runtime.sh("cat /tmp/rootfs/f"));
        assertHello(runtime.sh("sleep 0.7; cat /tmp/rootfs/f"));
        // Its later children hold the container's root too, and are not the container's either.
        assertHello(runtime.sh("unshare -m cat /tmp/rootfs/f"));
        // The container's own children are: they hold what only the container has.
        assertDenied(Run.run("nsenter", "-t", Integer.toString(member), "-m", "unshare", "-m", "cat", "/tmp/rootfs/f"));
    }

    /** Waits until {@code pid} has left {@code parentNs} (unshare done) and returns its namespace's number. */
    private static String eventuallyNamespaceOf(int pid, long parentNs) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            // comm first: once the process runs sleep, nsenter's setns and unshare's unshare are behind it,
            // where a link read before comm could still be nsenter's namespace, the host's.
            boolean sleeping = Files.readString(Path.of("/proc/" + pid + "/comm")).equals("sleep\n");
            String link = Files.readSymbolicLink(Path.of("/proc/" + pid + "/ns/mnt")).toString();
            String nsid = link.substring(5, link.length() - 1);
            if (sleeping && !nsid.equals(Long.toString(parentNs))) {
                return nsid;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("pid " + pid + " did not reach its own namespace: " + link);
            }
            Thread.sleep(20);
        }
    }
}
