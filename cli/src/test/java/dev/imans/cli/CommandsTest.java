package dev.imans.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imans.linux.Xattr;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The commands on real files and real security.ima attributes (root, tmpfs). */
class CommandsTest {
    static final String SHA256 = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";

    @TempDir
    Path tmp;
    ScratchFs fs;
    Path dir;

    @BeforeEach
    void mount() throws Exception {
        fs = new ScratchFs(tmp);
        dir = fs.dir();
    }

    @AfterEach
    void unmount() throws Exception {
        fs.close();
    }

    Path hello(String name) throws Exception {
        Files.createDirectories(dir.resolve(name).getParent());
        return Files.writeString(dir.resolve(name), "hello\n");
    }

    @Test
    void hashPrintsGetfattrBlocksAndSetsOnlyWithSet() throws Exception {
        Path f = hello("a");
        Tools.Result r = Tools.imans("hash", f.toString());
        assertThat(r.rc()).isZero();
        assertThat(r.out()).isEqualTo("# file: " + f + "\nsecurity.ima=0x0404" + SHA256 + "\n\n");
        assertThat(Xattr.get(f, Xattr.SECURITY_IMA)).isEmpty();
        assertThat(Tools.imans("hash", "--set", "-a", "sha1", f.toString()).rc()).isZero();
        assertThat(Xattr.get(f, Xattr.SECURITY_IMA)).hasValueSatisfying(v -> assertThat(v[0]).isEqualTo((byte) 1));
    }

    @Test
    void recursiveWalkTakesRegularFilesOnlyAndDoesNotFollowLinks() throws Exception {
        Path a = hello("d/a");
        Path b = hello("d/sub/b");
        Files.createSymbolicLink(dir.resolve("d/link"), a);
        Path outside = Files.createDirectories(dir.resolve("outside"));
        Path c = hello("outside/c");
        Files.createSymbolicLink(dir.resolve("d/dirlink"), outside);
        Tools.Result r = Tools.imans("hash", "-r", "--set", dir.resolve("d").toString());
        assertThat(r.rc()).isZero();
        assertThat(r.out()).contains("# file: " + a + "\n", "# file: " + b + "\n").doesNotContain("link", c.toString());
        assertThat(Xattr.get(c, Xattr.SECURITY_IMA)).isEmpty();
    }

    @Test
    void failuresAreReportedPerFileWithExitOne() throws Exception {
        Path a = hello("a");
        Tools.Result r = Tools.imans("hash", dir.resolve("missing").toString(), a.toString(), dir.toString());
        assertThat(r.rc()).isEqualTo(1);
        assertThat(r.err()).contains(dir.resolve("missing") + ": no such file").contains(dir + ": is a directory");
        assertThat(r.out()).contains("# file: " + a);
    }

    @Test
    void usageErrorsExitTwo() {
        assertThat(Tools.imans("hash", "--algo", "nope", "x").rc()).isEqualTo(2);
        assertThat(Tools.imans("hash").rc()).isEqualTo(2);
        assertThat(Tools.imans("sign", "x").rc()).isEqualTo(2);
        Tools.Result r = Tools.imans("sign", "--key", "/nonexistent.pem", "x");
        assertThat(r.rc()).isEqualTo(2);
        assertThat(r.err()).contains("/nonexistent.pem");
    }

    @Test
    void verifyAndExplainTheSeedsLabel() throws Exception {
        Path good = hello("good");
        Path seed = hello("seed");
        Path none = hello("none");
        Path tampered = hello("tampered");
        assertThat(Tools.imans("hash", "--set", good.toString(), tampered.toString()).rc()).isZero();
        Files.writeString(tampered, "foo\n");
        Xattr.set(seed, Xattr.SECURITY_IMA, dev.imans.crypto.Hex.parse("04" + SHA256));

        Tools.Result v = Tools.imans("verify", good.toString(), seed.toString(), none.toString(), tampered.toString());
        assertThat(v.rc()).isEqualTo(1);
        assertThat(v.out()).contains(good + ": OK")
                .contains(seed + ": FAIL (op=appraise_data cause=invalid-hash)")
                .contains(none + ": FAIL NOLABEL (op=appraise_data cause=missing-hash): the file has no security.ima")
                .contains(tampered + ": FAIL (op=appraise_data cause=invalid-hash)");
        assertThat(Tools.imans("verify", good.toString()).rc()).isZero();
        assertThat(Tools.imans("verify", "--require-signature", good.toString()).out())
                .contains("cause=IMA-signature-required");

        Tools.Result e = Tools.imans("xattr", "explain", seed.toString());
        assertThat(e.rc()).isEqualTo(1);
        assertThat(e.out()).contains("security.ima=0x04" + SHA256)
                .contains("type:      0x04 (IMA_XATTR_DIGEST_NG)")
                .contains("0x58 = 88")
                .contains("without the algorithm byte")
                .contains("file:      sha256:" + SHA256)
                .contains("DOES NOT MATCH")
                .contains("audit op=appraise_data cause=invalid-hash");
        Tools.Result ok = Tools.imans("xattr", "explain", good.toString());
        assertThat(ok.rc()).isZero();
        assertThat(ok.out()).contains("stored:    sha256:" + SHA256).contains("MATCHES");
    }

    @Test
    void errorsNameTheFileAndReasonOnceWithoutUsage() throws Exception {
        Path f = hello("plain");
        Path missing = dir.resolve("missing.pem");
        for (String[] cmd : new String[][] {{"sign", "--key", missing.toString(), f.toString()},
                {"verify", "--key", missing.toString(), f.toString()},
                {"xattr", "explain", "--key", missing.toString(), f.toString()}}) {
            Tools.Result r = Tools.imans(cmd);
            assertThat(r.rc()).as(String.join(" ", cmd)).isEqualTo(2);
            String what = cmd[0].equals("sign") ? "key" : "certificate";
            assertThat(r.err()).isEqualTo("imans " + (cmd[0].equals("xattr") ? "xattr explain" : cmd[0])
                    + ": cannot read " + what + " " + missing + ": no such file\n");
        }
    }

    @Test
    void explainWalksADirectoryWithR() throws Exception {
        Path a = hello("tree/a");
        Tools.Result plain = Tools.imans("xattr", "explain", dir.resolve("tree").toString());
        assertThat(plain.rc()).isEqualTo(1);
        assertThat(plain.err()).contains("is a directory (use -r to walk it)");
        Tools.Result walked = Tools.imans("xattr", "explain", "-r", dir.resolve("tree").toString());
        assertThat(walked.out()).contains("# file: " + a + "\n", "security.ima: absent");
    }
}
