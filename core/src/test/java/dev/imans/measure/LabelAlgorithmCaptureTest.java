package dev.imans.measure;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imans.crypto.HashAlgo;
import dev.imans.policy.KernelProfile;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Known answers from the real kernel (Debian 6.1.192, ima_hash=sha256, no TPM): measure-algos/ holds the
 * lists it wrote for scenario.sh beside them (report.txt: the run, the xattrs as getfattr printed them).
 * Files whose security.ima names another algorithm than ima_hash, right or wrong; ima-sig entries that
 * take security.evm's portable signature; evm-sig entries with EVM's protected xattrs, owner and mode.
 * Each entry made here from the same facts must be the kernel's, byte for byte.
 */
class LabelAlgorithmCaptureTest {
    private static final HexFormat HEX = HexFormat.of();

    /** A file of the scenario: its xattrs as set there (name to hex value), owner, group and mode. */
    private record FileFacts(String name, Map<String, String> xattrs, int uid, int gid, int mode) {
        Template template() {
            return switch (uid) {
                case 1001 -> Template.IMA_NG;
                case 1002 -> Template.IMA_SIG;
                default -> Template.EVM_SIG;
            };
        }

        byte[] content() {
            return (name + "\n").getBytes(StandardCharsets.US_ASCII);
        }

        byte[] xattr(String n) {
            String v = xattrs.get(n);
            return v == null ? null : HEX.parseHex(v);
        }
    }

    private static final List<FileFacts> FILES = List.of(
            ng("ng-sha1", "014efa6329c7158085a0321e5f05959c058e897a00"),
            ng("ng-md5", "01b1d4c3e03260d6c4d54ce3abe3097f1e"),
            ng("ng-sha512", "0406dd2e11ffe3c7ad569b5f2c8b75137cc90bd861d981dde69da4dba77929007eadc5da3222987b0b934d7bef"
                    + "8943b4b73004c05aca7adf2697dc9e3eb768a97e19"),
            ng("ng-wrong512", "0406" + "00".repeat(64)),
            ng("ng-sha3", "0414" + "00".repeat(32)),
            ng("ng-badalgo", "04ff" + "00".repeat(32)),
            ng("ng-sig384", "030205aabbccdd0002beef"),
            ng("ng-none", null),
            sig("sig-evm", null, "050204aabbccdd0003010203"),
            sig("sig-evm-hash", "04048c6a0cdb4d207100b886ccf32324c8e35d6c184cbd1046eb4be97b7fc3f9bbef",
                    "050204aabbccdd0003040506"),
            sig("sig-both", "030204aabbccdd0002abcd", "050204aabbccdd0003070809"),
            sig("sig-sha1", "01cfbdd543a6dcd1957d9b63801c242d9e52226b8d", null),
            sig("sig-evmsig-sha512", null, "050206aabbccdd0001ee"),
            new FileFacts("evm-all", xattrs(
                    "security.evm", "050204aabbccdd00021122",
                    "security.apparmor", "756e636f6e66696e6564",
                    "security.SMACK64MMAP", "4d4d",
                    "security.SMACK64", "5f",
                    "security.selinux", "73797374656d5f753a6f626a6563745f723a746d705f743a733000",
                    "security.ima", "0404eabbb92dd2536fe0ba383dc450263b7a487e43adc11481abb19091b58befc448",
                    "security.capability", "0100000200040000000000000000000000000000"), 1003, 77, 0100640),
            new FileFacts("evm-none", Map.of(), 1003, 77, 0100644),
            new FileFacts("evm-ima", xattrs("security.ima", "04025a78a93bfad22dc1a88c8e587f84d0937f4f4c4a"),
                    1003, 77, 0100755));

    private static FileFacts ng(String name, String ima) {
        return new FileFacts(name, ima == null ? Map.of() : xattrs("security.ima", ima), 1001, 0, 0100644);
    }

    private static FileFacts sig(String name, String ima, String evm) {
        Map<String, String> x = new LinkedHashMap<>();
        if (ima != null) {
            x.put("security.ima", ima);
        }
        if (evm != null) {
            x.put("security.evm", evm);
        }
        return new FileFacts(name, x, 1002, 0, 0100644);
    }

    private static Map<String, String> xattrs(String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }

    private static List<ListRecord> records() throws Exception {
        return BinaryList.read(KernelCaptureTest.resource("measure-algos/binary_runtime_measurements"), HashAlgo.SHA1);
    }

    @Test
    void theKernelsListReadsAndRendersByteForByte() throws Exception {
        List<ListRecord> records = records();
        assertThat(records).hasSize(1 + FILES.size()).allMatch(ListRecord::digestMatches);
        assertThat(AsciiList.renderRecords(records))
                .isEqualTo(KernelCaptureTest.resource("measure-algos/ascii_runtime_measurements"));
        assertThat(BinaryList.writeRecords(records))
                .isEqualTo(KernelCaptureTest.resource("measure-algos/binary_runtime_measurements"));
    }

    @Test
    void entriesMadeFromTheFilesFactsAreTheKernels() throws Exception {
        List<ListRecord> records = records();
        for (int i = 0; i < FILES.size(); i++) {
            FileFacts f = FILES.get(i);
            Template t = f.template();
            HashAlgo algo = CollectedDigest.algo(t, false, f.xattr("security.ima"), HashAlgo.SHA256,
                    KernelProfile.debian61().hashAlgoNames());
            List<ProtectedXattr> protectedXattrs = new ArrayList<>();
            for (String n : ProtectedXattr.EVM_NAMES) {
                if (f.xattrs.containsKey(n)) {
                    protectedXattrs.add(new ProtectedXattr(n, f.xattr(n)));
                }
            }
            EventData ev = EventData.file("/data/" + f.name,
                            new MeasuredDigest(algo, algo.newDigest().digest(f.content())))
                    .imaXattr(f.xattr("security.ima")).evmXattr(f.xattr("security.evm"))
                    .xattrs(protectedXattrs).owner(f.uid, f.gid).mode(f.mode).build();
            MeasurementEntry kernel = records.get(i + 1).entry();
            assertThat(MeasurementEntry.create(10, t, ev, HashAlgo.SHA256)).as(f.name).isEqualTo(kernel);
        }
    }

    @Test
    void whatTheKernelRecordedForTheOddLabels() throws Exception {
        List<String> lines = new String(KernelCaptureTest.resource("measure-algos/ascii_runtime_measurements"),
                StandardCharsets.US_ASCII).lines().map(l -> l.substring(l.indexOf(' ', 4) + 1)).toList();
        // A sha1 or md5 label (0x01, told apart by length), a sha512 label whether right or wrong.
        assertThat(lines.get(1)).startsWith("ima-ng sha1:4efa6329c7158085a0321e5f05959c058e897a00 /data/ng-sha1");
        assertThat(lines.get(2)).startsWith("ima-ng md5:b1d4c3e03260d6c4d54ce3abe3097f1e /data/ng-md5");
        assertThat(lines.get(4)).startsWith("ima-ng sha512:83a40e2a").endsWith(" /data/ng-wrong512");
        // sha3-256 is past 6.1's HASH_ALGO__LAST and 0xff is no algorithm: ima_hash.
        assertThat(lines.get(5)).startsWith("ima-ng sha256:").endsWith(" /data/ng-sha3");
        assertThat(lines.get(6)).startsWith("ima-ng sha256:").endsWith(" /data/ng-badalgo");
        // A signature's header names sha384.
        assertThat(lines.get(7)).startsWith("ima-ng sha384:").endsWith(" /data/ng-sig384");
        // ima-sig: security.evm's portable signature unless security.ima holds a signature.
        assertThat(lines.get(9)).endsWith(" /data/sig-evm 050204aabbccdd0003010203");
        assertThat(lines.get(11)).endsWith(" /data/sig-both 030204aabbccdd0002abcd");
        assertThat(lines.get(12)).startsWith("ima-sig sha1:").endsWith(" /data/sig-sha1 ");
        // evm-sig: EVM's order (not the order of listxattr), "(disabled)" names included.
        assertThat(lines.get(14)).contains(" security.selinux|security.SMACK64|security.SMACK64MMAP|"
                + "security.apparmor|security.ima|security.capability 1b00000001000000020000000a0000002200000014000000 ");
        assertThat(lines.get(15)).endsWith(" /data/evm-none     1003 77 33188");
    }
}
