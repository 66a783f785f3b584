package dev.imans.daemon.enforce;

import static dev.imans.daemon.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import dev.imans.audit.AuditFormat;
import dev.imans.crypto.DigestSignature;
import dev.imans.crypto.FileDigester;
import dev.imans.crypto.HashAlgo;
import dev.imans.crypto.KeyId;
import dev.imans.crypto.Keyring;
import dev.imans.crypto.VerificationKey;
import dev.imans.linux.Xattr;
import dev.imans.ns.AppraiseSetting;
import dev.imans.xattr.ImaXattr;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Verdicts that follow the kernel's (Linux 6.1, security/integrity/ima) where userspace sees the same
 * facts: O_TMPFILE creation, signed files refusing writers, the labels a writer's close leaves.
 * Real namespaces, tmpfs, xattrs and processes, as root.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class KernelParityTest {
    private static final String TMPFS_POLICY = "appraise fsmagic=0x01021994\n";
    private static final String HELLO_SHA256 = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";
    private static final String HELLO_SHA1 = "f572d396fae9206628714fb2ce00f72e94f2258f";
    private static final String FOO_SHA256 = "b5bb9d8014a0f9b1d61e21e796d78dccdf1352f23cd32812f4850b878ae4944c";
    private static final String PYTHON = "/usr/bin/python3";

    /**
     * Writes argv[3] to a new file argv[2] in directory argv[1] the atomic way: an O_TMPFILE open,
     * write, {@code linkat(fd, "", AT_FDCWD, path, AT_EMPTY_PATH)} (as systemd's link_tmpfile). With argv[4] = "threads" it first starts a second thread,
     * so the daemon cannot read the open's flags from /proc/PID/syscall. Prints the Threads: line.
     */
    private static final String ATOMIC_WRITE = """
            import ctypes, os, sys, threading, time
            d, name, data = sys.argv[1], sys.argv[2], sys.argv[3]
            if len(sys.argv) > 4:
                threading.Thread(target=time.sleep, args=(30,), daemon=True).start()
            print([l for l in open('/proc/self/status') if l.startswith('Threads:')][0].strip())
            fd = os.open(d, os.O_TMPFILE | os.O_RDWR, 0o644)
            os.write(fd, data.encode())
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.linkat(fd, b"", -100, os.path.join(d, name).encode(), 0x1000) != 0:
                raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
            os.close(fd)
            """;

    /** Reads argv[1] from a second thread's process (two threads: the open's flags are unknown). */
    private static final String THREADED_READ = """
            import sys, threading, time
            threading.Thread(target=time.sleep, args=(30,), daemon=True).start()
            sys.stdout.write(open(sys.argv[1]).read())
            """;

    private DaemonFixture daemon;

    @AfterEach
    void tearDown() throws Exception {
        if (daemon != null) {
            daemon.close();
        }
    }

    private static void assertDenied(Run.Result r) {
        assertThat(r.exit()).as(r.toString()).isNotZero();
        assertThat(r.err()).contains("Operation not permitted");
    }

    private List<String> causes() throws Exception {
        return daemon.appraisalRecords().stream().map(r -> r.value("cause").orElseThrow()).toList();
    }

    private Path script(String name, String text) throws Exception {
        Path p = daemon.base.resolve(name);
        Files.writeString(p, text);
        return p;
    }

    private Run.Result python(Namespace ns, String script, String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("nsenter", "-t", Integer.toString(ns.pid()), "-m",
                PYTHON, script));
        cmd.addAll(List.of(args));
        return Run.run(cmd);
    }

    /**
     * Creates a labelled file from the host, which has no policy: a creator inside the namespace would
     * earn a re-hash of its own, and its asynchronous close could overwrite the label set here.
     */
    private static void hostCreated(Namespace ns, String path, String content, String imaHex) throws Exception {
        Files.writeString(ns.hostPath(path), content);
        Xattr.set(ns.hostPath(path), Xattr.SECURITY_IMA, HexFormat.of().parseHex(imaHex));
    }

    private static String ima(Namespace ns, String path) throws Exception {
        return Xattr.get(ns.hostPath(path), Xattr.SECURITY_IMA).map(HexFormat.of()::formatHex).orElse("");
    }


    @Test
    void anAtomicWriteThroughOTmpfileSucceedsAndItsUnlabelledResultIsRefused() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Namespace ns = daemon.namespace(TMPFS_POLICY);
        String atomic = script("atomic.py", ATOMIC_WRITE).toString();
        Run.Result w = python(ns, atomic, "/tmp", "out", "hello\n");
        assertThat(w.exit()).as(w.toString()).isZero();
        assertThat(w.out()).isEqualTo("Threads:\t1\n");
        assertThat(Files.readString(ns.hostPath("/tmp/out"))).isEqualTo("hello\n");
        // No label was written (the seed's semantics, no re-hash on close): nobody may read it.
        assertDenied(ns.sh("cat /tmp/out"));
        assertThat(causes()).containsExactly("missing-hash");
    }

    @Test
    void aMultiThreadedWriterIsJudgedOnTheNewInodeAlone() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Namespace ns = daemon.namespace(TMPFS_POLICY);
        String atomic = script("atomic.py", ATOMIC_WRITE).toString();
        Run.Result w = python(ns, atomic, "/tmp", "out", "hello\n", "threads");
        assertThat(w.exit()).as(w.toString()).isZero();
        assertThat(w.out()).isEqualTo("Threads:\t2\n");
        assertThat(Files.readString(ns.hostPath("/tmp/out"))).isEqualTo("hello\n");
        // The linked file has a name and content now: a multi-threaded reader is appraised as anyone.
        assertDenied(python(ns, script("read.py", THREADED_READ).toString(), "/tmp/out"));
        assertThat(causes()).containsExactly("missing-hash");
    }

    @Test
    void anUnlinkedFileReopenedThroughProcIsAppraisedWhenItCarriesALabel() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Namespace ns = daemon.namespace(TMPFS_POLICY);
        ns.shOk("echo hello > /tmp/u && setfattr -n security.ima -v 0x0404" + HELLO_SHA256 + " /tmp/u");
        // A member keeps it open and unlinks it: it has no name, and its label stays.
        Process holder = new ProcessBuilder("nsenter", "-t", Integer.toString(ns.pid()), "-m", "sh", "-c",
                "exec 3</tmp/u && rm /tmp/u && echo $$ && exec sleep 60").start();
        try {
            String pid = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8))
                    .readLine();
            String fd3 = "/proc/" + pid + "/fd/3";
            // Emptied from the host (which has no policy): nlink 0, size 0, but labelled for "hello\n".
            Run.ok("truncate", "-s", "0", fd3);
            Run.Result r = python(ns, script("read.py", THREADED_READ).toString(), fd3);
            assertDenied(r);
            assertThat(causes()).containsExactly("invalid-hash");
        } finally {
            holder.destroyForcibly();
            holder.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void theTmpfileWritersCloseLabelsItWithRehashOnClose() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE, Set.of("all"));
        Namespace ns = daemon.namespace(TMPFS_POLICY);
        Run.Result w = python(ns, script("atomic.py", ATOMIC_WRITE).toString(), "/tmp", "out", "hello\n");
        assertThat(w.exit()).as(w.toString()).isZero();
        eventually(() -> assertThat(ima(ns, "/tmp/out")).isEqualTo("0404" + HELLO_SHA256));
        assertThat(ns.shOk("cat /tmp/out").out()).isEqualTo("hello\n");
        assertThat(causes()).isEmpty();
    }

    private static final KeyPair KEY = rsaKey();
    private static final KeyId KEY_ID = KeyId.ofPublicKey(KEY.getPublic());
    private static final Keyring RING = Keyring.of(List.of(new VerificationKey(KEY.getPublic(), KEY_ID,
            Optional.empty(), "test key")));

    private static KeyPair rsaKey() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
            g.initialize(2048);
            return g.generateKeyPair();
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A 0x03 value, as evmctl ima_sign writes it, for {@code content}. */
    private static String signature(String content) throws Exception {
        byte[] digest = FileDigester.digest(HashAlgo.SHA256, content.getBytes(StandardCharsets.UTF_8));
        return HexFormat.of().formatHex(ImaXattr.SignatureV2.of(HashAlgo.SHA256, KEY_ID,
                DigestSignature.sign(KEY.getPrivate(), HashAlgo.SHA256, digest)).encode());
    }

    /** A 0x06 value that verifies where no digest_type=verity applies: over ima_file_id of the content digest. */
    private static String veritySignature(String content) throws Exception {
        byte[] digest = FileDigester.digest(HashAlgo.SHA256, content.getBytes(StandardCharsets.UTF_8));
        byte[] fileId = new byte[2 + digest.length];
        fileId[0] = 0x06;
        fileId[1] = (byte) HashAlgo.SHA256.id();
        System.arraycopy(digest, 0, fileId, 2, digest.length);
        return HexFormat.of().formatHex(new ImaXattr.VeritySignature(HashAlgo.SHA256, KEY_ID,
                DigestSignature.sign(KEY.getPrivate(), HashAlgo.SHA256, FileDigester.digest(HashAlgo.SHA256, fileId)))
                .encode());
    }

    @Test
    void aSignedFileRefusesWritersWithoutARecordAndStillServesReaders() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE, Set.of(), AuditFormat.SEED, RING);
        Namespace ns = daemon.namespace(TMPFS_POLICY);
        String sig = signature("signed\n");
        ns.shOk("echo signed > /tmp/s && setfattr -n security.ima -v 0x" + sig + " /tmp/s");
        ns.shOk("echo hello > /tmp/h && setfattr -n security.ima -v 0x0404" + HELLO_SHA256 + " /tmp/h");

        assertThat(ns.shOk("cat /tmp/s").out()).isEqualTo("signed\n");
        // Twice: a reader's pass must not leave a mark that would hide the writer's open.
        assertThat(ns.shOk("cat /tmp/s").out()).isEqualTo("signed\n");
        assertDenied(ns.sh("echo x >> /tmp/s"));
        assertDenied(ns.sh("echo x > /tmp/s"));
        assertThat(Files.readString(ns.hostPath("/tmp/s"))).isEqualTo("signed\n");
        assertThat(ns.shOk("cat /tmp/s").out()).isEqualTo("signed\n");
        // A hashed file takes writers (and is then refused to readers, without re-hash on close).
        assertThat(ns.sh("echo x >> /tmp/h").exit()).isZero();
        assertDenied(ns.sh("cat /tmp/h"));
        // The kernel writes no record for the refused writers: only the changed hash is audited.
        assertThat(causes()).containsExactly("invalid-hash");
    }

    @Test
    void signaturesAreNeverReHashedOnClose() throws Exception {
        // Log mode: the writers are let through (only enforce refuses them), their appraisal passed.
        daemon = new DaemonFixture(AppraiseSetting.LOG, Set.of("all"), AuditFormat.SEED, RING);
        Namespace ns = daemon.namespace(TMPFS_POLICY);
        String sig = signature("signed\n");
        String verity = veritySignature("signed\n");
        hostCreated(ns, "/tmp/s", "signed\n", sig);
        hostCreated(ns, "/tmp/v", "signed\n", verity);
        assertThat(ns.shOk("cat /tmp/s /tmp/v").out()).isEqualTo("signed\nsigned\n");
        assertThat(ns.sh("echo x >> /tmp/s; echo x >> /tmp/v").exit()).isZero();
        assertThat(ns.shOk("cat /tmp/s /tmp/v").out()).isEqualTo("signed\nx\nsigned\nx\n");
        assertThat(ima(ns, "/tmp/s")).isEqualTo(sig);
        assertThat(ima(ns, "/tmp/v")).isEqualTo(verity);
        assertThat(causes()).containsExactly("invalid-signature", "invalid-verity-signature");
    }

    @Test
    void logModeLeavesTheLabelOfAFailedFileWhenItsWriterCloses() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.LOG, Set.of("all"));
        Namespace ns = daemon.namespace(TMPFS_POLICY);
        String bad = "0404" + "00".repeat(32);
        hostCreated(ns, "/tmp/bad", "hello\n", bad);
        assertThat(ns.sh("echo more >> /tmp/bad").exit()).isZero();
        // A re-hash still owed would be done before this open is judged.
        assertThat(ns.shOk("cat /tmp/bad").out()).isEqualTo("hello\nmore\n");
        assertThat(ima(ns, "/tmp/bad")).isEqualTo(bad);
        assertThat(causes()).containsExactly("invalid-hash", "invalid-hash");
    }

    @Test
    void aWritersCloseRelabelsWithImaHashNotTheOldLabelsAlgorithm() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE, Set.of("all"));
        Namespace ns = daemon.namespace(TMPFS_POLICY);
        hostCreated(ns, "/tmp/f", "hello\n", "01" + HELLO_SHA1);
        assertThat(ns.shOk("cat /tmp/f").out()).isEqualTo("hello\n");
        assertThat(ns.sh("echo foo > /tmp/f").exit()).isZero();
        eventually(() -> assertThat(ima(ns, "/tmp/f")).isEqualTo("0404" + FOO_SHA256));
        assertThat(ns.shOk("cat /tmp/f").out()).isEqualTo("foo\n");
        assertThat(causes()).isEmpty();
    }
}
