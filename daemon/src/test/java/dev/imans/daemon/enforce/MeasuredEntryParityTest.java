package dev.imans.daemon.enforce;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imans.crypto.HashAlgo;
import dev.imans.measure.BinaryList;
import dev.imans.measure.ListVerifier;
import dev.imans.measure.PcrFile;
import dev.imans.measure.Template;
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
 * The daemon's entries against the real kernel's: the scenario the 6.1 kernel ran for
 * core/src/test/resources/dev/imans/measure/measure-algos (see scenario.sh and report.txt there), run
 * here on a tmpfs in a registered namespace by a chrooted opener, so that the names are the kernel's
 * ({@code /data/...}). Files labelled in other algorithms than ima_hash, right or wrong; ima-sig entries
 * with EVM portable signatures; evm-sig entries with EVM's protected xattrs. The namespace's list must be
 * the kernel's list, byte for byte, and evmctl must accept it.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class MeasuredEntryParityTest {
    private static final Path CAPTURE = Path.of("../core/src/test/resources/dev/imans/measure/measure-algos");
    private static final String FILES = "ng-sha1 ng-md5 ng-sha512 ng-wrong512 ng-sha3 ng-badalgo ng-sig384 ng-none"
            + " sig-evm sig-evm-hash sig-both sig-sha1 sig-evmsig-sha512 evm-all evm-none evm-ima";
    private static final Path CAPTURE_NG = Path.of("../core/src/test/resources/dev/imans/measure/measure-ima-ng");
    /** spec/kernel-captures measure-flow.sh (template ima-ng), its setup under /tmp/root/data. */
    private static final String FLOW_SETUP = """
            set -e
            umask 022
            mkdir -p /tmp/root/bin /tmp/root/data
            cp /bin/busybox /tmp/root/bin/busybox
            chroot /tmp/root /bin/busybox --install -s /bin
            cd /tmp/root/data
            echo hello > a
            : > empty
            echo data > "name with space"
            echo sig > signed
            setfattr -n security.ima -v 0x030204aabbccdd00080102030405060708 signed
            echo hashed > hashed
            setfattr -n security.ima -v 0x0404$(sha256sum hashed | cut -c1-64) hashed
            echo rw > rw; echo w > w; echo t > t
            """;
    /** measure-flow.sh's steps after the policy, as busybox sh runs them there. */
    private static final String FLOW = "cat /data/a /data/empty '/data/name with space' /data/signed /data/hashed;"
            + " cat /data/a; echo more >> /data/a; cat /data/a;"
            + " exec 4<>/data/rw; exec 4<&-;"
            + " exec 3>>/data/w; cat /data/w; exec 3>&-;"
            + " exec 5</data/t; echo x >> /data/t; exec 5<&-";

    /** scenario.sh's setup, under /tmp/root/data with the host's tools (and busybox for the chroot). */
    private static final String SETUP = """
            set -e
            umask 022
            mkdir -p /tmp/root/bin /tmp/root/data
            cp /bin/busybox /tmp/root/bin/busybox
            cd /tmp/root/data
            mk() { echo "$2" > "$1"; chown "$3" "$1"; }
            for f in ng-sha1 ng-md5 ng-sha512 ng-wrong512 ng-sha3 ng-badalgo ng-sig384 ng-none; do mk $f "$f" 1001; done
            setfattr -n security.ima -v 0x01$(sha1sum ng-sha1 | cut -c1-40) ng-sha1
            setfattr -n security.ima -v 0x01$(md5sum ng-md5 | cut -c1-32) ng-md5
            setfattr -n security.ima -v 0x0406$(sha512sum ng-sha512 | cut -c1-128) ng-sha512
            setfattr -n security.ima -v 0x0406$(printf '%0128d' 0) ng-wrong512
            setfattr -n security.ima -v 0x0414$(printf '%064d' 0) ng-sha3
            setfattr -n security.ima -v 0x04ff$(printf '%064d' 0) ng-badalgo
            setfattr -n security.ima -v 0x030205aabbccdd0002beef ng-sig384
            for f in sig-evm sig-evm-hash sig-both sig-sha1 sig-evmsig-sha512; do mk $f "$f" 1002; done
            setfattr -n security.evm -v 0x050204aabbccdd0003010203 sig-evm
            setfattr -n security.ima -v 0x0404$(sha256sum sig-evm-hash | cut -c1-64) sig-evm-hash
            setfattr -n security.evm -v 0x050204aabbccdd0003040506 sig-evm-hash
            setfattr -n security.ima -v 0x030204aabbccdd0002abcd sig-both
            setfattr -n security.evm -v 0x050204aabbccdd0003070809 sig-both
            setfattr -n security.ima -v 0x01$(sha1sum sig-sha1 | cut -c1-40) sig-sha1
            setfattr -n security.evm -v 0x050206aabbccdd0001ee sig-evmsig-sha512
            for f in evm-all evm-none evm-ima; do mk $f "$f" 1003; done
            chgrp 77 evm-all evm-none evm-ima; chmod 0640 evm-all; chmod 0755 evm-ima
            setfattr -n security.capability -v 0x0100000200040000000000000000000000000000 evm-all
            setfattr -n security.ima -v 0x0404$(sha256sum evm-all | cut -c1-64) evm-all
            setfattr -n security.selinux -v 0x73797374656d5f753a6f626a6563745f723a746d705f743a733000 evm-all
            setfattr -n security.SMACK64 -v 0x5f evm-all
            setfattr -n security.SMACK64MMAP -v 0x4d4d evm-all
            setfattr -n security.apparmor -v 0x756e636f6e66696e6564 evm-all
            setfattr -n user.other -v 0x01 evm-all
            setfattr -n security.evm -v 0x050204aabbccdd00021122 evm-all
            setfattr -n security.ima -v 0x0402$(sha1sum evm-ima | cut -c1-40) evm-ima
            """;
    private static final String POLICY = """
            measure func=FILE_CHECK mask=MAY_READ fowner=1001 template=ima-ng
            measure func=FILE_CHECK mask=MAY_READ fowner=1002 template=ima-sig
            measure func=FILE_CHECK mask=MAY_READ fowner=1003 template=evm-sig
            """;

    private DaemonFixture daemon;

    @AfterEach
    void tearDown() throws Exception {
        if (daemon != null) {
            daemon.close();
        }
    }

    /**
     * The kernel's measure-ima-ng capture: unchanged files measured once, a changed one again, a space in
     * a name, an O_RDWR open that mask=MAY_READ does not match, and the open_writers violation, entry for
     * entry. Its ToMToU comes from a writer that opens the ignore-marked /data/t and closes it at once:
     * the daemon sees such a writer only after its open and may miss it (docs/measurements.md), so that
     * last entry is the kernel's if present. The kernel's last two entries measure its securityfs files,
     * which the daemon's control filesystem does not have.
     */
    @Test
    void theKernelsMeasurementFlowGivesTheKernelsEntriesAndViolations() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Namespace ns = daemon.fresh();
        ns.shOk(FLOW_SETUP);
        daemon.register(ns);
        daemon.policy(ns, "measure func=FILE_CHECK mask=MAY_READ\n");
        ns.shOk("chroot /tmp/root /bin/sh -c \"" + FLOW + "\" > /dev/null");

        List<String> kernel = Files.readAllLines(CAPTURE_NG.resolve("ascii_runtime_measurements"), StandardCharsets.US_ASCII);
        List<String> ours = Files.readAllLines(daemon.control.resolve(ns.nsid + "/ascii_runtime_measurements"),
                StandardCharsets.US_ASCII);
        assertThat(ours.subList(0, Math.min(10, ours.size()))).isEqualTo(kernel.subList(0, 10));
        assertThat(ours.subList(10, ours.size())).isSubsetOf(List.of(kernel.get(10)));
        assertThat(Files.readString(daemon.control.resolve(ns.nsid + "/violations")))
                .isEqualTo((ours.size() - 9) + "\n");
        assertThat(daemon.auditLines().stream().filter(l -> l.startsWith("type=1804 ")).findFirst().orElseThrow())
                .contains(" op=\"invalid_pcr\" cause=\"open_writers\" comm=\"cat\" name=\"/data/w\" ").endsWith(" res=1");
    }

    @Test
    void theNamespacesListIsTheKernelsListByteForByteAndEvmctlAcceptsIt() throws Exception {
        // Debian's kernel defaults to ima-sig, which its boot_aggregate entry shows.
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE, c -> c.withTemplate(Template.IMA_SIG));
        Namespace ns = daemon.fresh();
        ns.shOk(SETUP);
        daemon.register(ns);
        daemon.policy(ns, POLICY);
        ns.shOk("chroot /tmp/root /bin/busybox sh -c 'for f in " + FILES
                + "; do /bin/busybox cat /data/$f || exit 1; done' > /dev/null");

        Path dir = daemon.control.resolve(Long.toString(ns.nsid));
        assertThat(Files.readString(dir.resolve("ascii_runtime_measurements"), StandardCharsets.US_ASCII))
                .isEqualTo(Files.readString(CAPTURE.resolve("ascii_runtime_measurements"), StandardCharsets.US_ASCII));
        byte[] binary = Files.readAllBytes(dir.resolve("binary_runtime_measurements"));
        assertThat(binary).isEqualTo(Files.readAllBytes(CAPTURE.resolve("binary_runtime_measurements")));

        // evmctl replays the list to the PCRs imans computes for it.
        ListVerifier.Report report = ListVerifier.replay(BinaryList.read(binary, HashAlgo.SHA1),
                List.of(HashAlgo.SHA1, HashAlgo.SHA256));
        Path work = daemon.base.resolve("evmctl");
        Files.createDirectories(work);
        Files.write(work.resolve("binary_runtime_measurements"), binary);
        Files.writeString(work.resolve("pcrs.sha1"), PcrFile.format(report.perBank().get(HashAlgo.SHA1)));
        Files.writeString(work.resolve("pcrs.sha256"), PcrFile.format(report.perBank().get(HashAlgo.SHA256)));
        Run.Result evmctl = Run.run("evmctl", "ima_measurement", "--pcrs", "sha1," + work.resolve("pcrs.sha1"),
                "--pcrs", "sha256," + work.resolve("pcrs.sha256"), work.resolve("binary_runtime_measurements").toString());
        assertThat(evmctl.exit()).as(evmctl.out() + evmctl.err()).isZero();
        assertThat(evmctl.out() + evmctl.err()).contains("Matched per TPM bank calculated digest(s).");
    }
}
