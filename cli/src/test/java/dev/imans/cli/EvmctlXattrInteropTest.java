package dev.imans.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imans.crypto.HashAlgo;
import dev.imans.linux.Xattr;
import dev.imans.xattr.ImaXattr;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Interoperability with the real Debian tools (ima-evm-utils' evmctl, attr's getfattr, openssl),
 * on a tmpfs, as root. evmctl is the reference: what it writes we must read, and what we write it
 * must accept.
 */
class EvmctlXattrInteropTest {
    @TempDir
    static Path tmp;
    static ScratchFs fs;
    static Path dir;
    static Path keys;

    @BeforeAll
    static void setUp() throws Exception {
        fs = new ScratchFs(Files.createDirectories(tmp.resolve("fs")));
        dir = fs.dir();
        keys = Files.createDirectories(tmp.resolve("keys"));
        for (String[] k : new String[][] {
            {"rsa", "rsa:2048"},
            {"ec", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"},
        }) {
            String name = k[0];
            String[] cmd = {"openssl", "req", "-x509", "-newkey", k[1], "-nodes", "-days", "1",
                "-subj", "/CN=imans interop " + name,
                "-keyout", keys.resolve(name + ".pem").toString(), "-out", keys.resolve(name + "-cert.pem").toString()};
            if (k.length > 2) {
                String[] more = new String[cmd.length + 2];
                System.arraycopy(cmd, 0, more, 0, 5);
                more[5] = k[2];
                more[6] = k[3];
                System.arraycopy(cmd, 5, more, 7, cmd.length - 5);
                cmd = more;
            }
            assertThat(Tools.run(cmd).rc()).as(String.join(" ", cmd)).isZero();
            assertThat(Tools.run("openssl", "x509", "-in", keys.resolve(name + "-cert.pem").toString(), "-outform", "DER",
                    "-out", keys.resolve(name + "-cert.der").toString()).rc()).isZero();
        }
    }

    @AfterAll
    static void tearDown() throws Exception {
        fs.close();
    }

    static Path file(String name, String content) throws Exception {
        return Files.writeString(dir.resolve(name), content);
    }

    @ParameterizedTest
    @ValueSource(strings = {"md5", "sha1", "rmd160", "sha224", "sha256", "sha384", "sha512"})
    void evmctlHashesDecodeAndVerifyAndEqualOurs(String algo) throws Exception {
        Path f = file("h-" + algo, "content for " + algo + "\n");
        Tools.Result ev = Tools.run("evmctl", "ima_hash", "-a", algo, f.toString());
        assertThat(ev.rc()).as(ev.err()).isZero();
        byte[] evmctl = Xattr.get(f, Xattr.SECURITY_IMA).orElseThrow();
        ImaXattr x = ImaXattr.decode(evmctl);
        HashAlgo a = HashAlgo.byName(algo).orElseThrow();
        assertThat(x).isInstanceOf(a.id() <= HashAlgo.SHA1.id() ? ImaXattr.Digest.class : ImaXattr.DigestNg.class);
        Tools.Result v = Tools.imans("verify", f.toString());
        assertThat(v.rc()).as(v.out()).isZero();
        assertThat(Tools.imans("xattr", "explain", f.toString()).out()).contains("MATCHES");
        // Our value for the same algorithm is byte-identical to evmctl's.
        Xattr.remove(f, Xattr.SECURITY_IMA);
        assertThat(Tools.imans("hash", "--set", "-a", algo, f.toString()).rc()).isZero();
        assertThat(Xattr.get(f, Xattr.SECURITY_IMA)).hasValueSatisfying(ours -> assertThat(ours).isEqualTo(evmctl));
    }

    @Test
    void getfattrShowsExactlyWhatImansHashPrinted() throws Exception {
        Path f = file("shown", "shown\n");
        Path spaced = file("with space", "x\n");
        Tools.Result ours = Tools.imans("hash", "--set", "-a", "sha512", f.toString(), spaced.toString());
        assertThat(ours.rc()).isZero();
        Tools.Result g = Tools.run("getfattr", "--absolute-names", "-n", "security.ima", "-e", "hex", f.toString(),
                spaced.toString());
        assertThat(g.rc()).as(g.err()).isZero();
        assertThat(g.out()).isEqualTo(ours.out());
        // Relative paths print the same way in both.
        Tools.Result rel = Tools.runIn(dir, "getfattr", "-n", "security.ima", "-e", "hex", "shown");
        assertThat(rel.out()).isEqualTo(Tools.imans("hash", "-a", "sha512", f.toString()).out().replace(f.toString(), "shown"));
    }

    @Test
    void evmctlVerifiesSignaturesOnlyNotOurHashes() throws Exception {
        // evmctl ima_verify (1.4 .. 1.6) checks signatures only; a hash is "xattr ima has no signature".
        Path f = file("hashed", "hashed\n");
        assertThat(Tools.imans("hash", "--set", f.toString()).rc()).isZero();
        Tools.Result ev = Tools.run("evmctl", "ima_verify", "--key", keys.resolve("rsa-cert.der").toString(), f.toString());
        assertThat(ev.rc()).isNotZero();
        assertThat(ev.out() + ev.err()).contains("has no signature");
    }

    @ParameterizedTest
    @ValueSource(strings = {"rsa:sha256", "rsa:sha1", "rsa:rmd160", "rsa:sha512", "ec:sha256", "ec:sha384"})
    void evmctlSignaturesVerifyUnderImans(String spec) throws Exception {
        String key = spec.split(":")[0];
        String algo = spec.split(":")[1];
        Path f = file("es-" + key + "-" + algo, "signed by evmctl " + spec + "\n");
        Tools.Result ev = Tools.run("evmctl", "ima_sign", "-a", algo, "--key", keys.resolve(key + ".pem").toString(),
                f.toString());
        assertThat(ev.rc()).as(ev.err()).isZero();
        assertThat(ImaXattr.decode(Xattr.get(f, Xattr.SECURITY_IMA).orElseThrow())).isInstanceOf(ImaXattr.SignatureV2.class);
        Tools.Result v = Tools.imans("verify", "--key", keys.resolve(key + "-cert.der").toString(), f.toString());
        assertThat(v.rc()).as(v.out() + v.err()).isZero();
        assertThat(v.out()).contains(": OK: " + algo + " signature verified");
        // Another key does not verify it.
        String other = key.equals("rsa") ? "ec" : "rsa";
        Tools.Result wrong = Tools.imans("verify", "--key", keys.resolve(other + "-cert.pem").toString(), f.toString());
        assertThat(wrong.rc()).isEqualTo(1);
        assertThat(wrong.out()).contains("cause=invalid-signature").contains("no key with id");
        // The content changed after signing.
        Files.writeString(f, "changed\n", java.nio.file.StandardOpenOption.APPEND);
        Tools.Result changed = Tools.imans("verify", "--key", keys.resolve(key + "-cert.der").toString(), f.toString());
        assertThat(changed.out()).contains("cause=invalid-signature");
    }

    @ParameterizedTest
    @ValueSource(strings = {"rsa:sha256", "rsa:sha512", "ec:sha256", "ec:sha512"})
    void imansSignaturesVerifyUnderEvmctl(String spec) throws Exception {
        String key = spec.split(":")[0];
        String algo = spec.split(":")[1];
        Path f = file("is-" + key + "-" + algo, "signed by imans " + spec + "\n");
        Tools.Result s = Tools.imans("sign", "--key", keys.resolve(key + ".pem").toString(), "-a", algo, f.toString());
        assertThat(s.rc()).as(s.err()).isZero();
        Tools.Result ev = Tools.run("evmctl", "-v", "ima_verify", "--key", keys.resolve(key + "-cert.der").toString(),
                f.toString());
        assertThat(ev.rc()).as(ev.out() + ev.err()).isZero();
        Files.writeString(f, "changed\n");
        assertThat(Tools.run("evmctl", "ima_verify", "--key", keys.resolve(key + "-cert.der").toString(),
                f.toString()).rc()).isNotZero();
    }

    @Test
    void rsaSignaturesAreByteIdenticalToEvmctls() throws Exception {
        Path f = file("same", "same bytes\n");
        assertThat(Tools.run("evmctl", "ima_sign", "--key", keys.resolve("rsa.pem").toString(), f.toString()).rc()).isZero();
        byte[] evmctl = Xattr.get(f, Xattr.SECURITY_IMA).orElseThrow();
        assertThat(Tools.imans("sign", "--key", keys.resolve("rsa.pem").toString(), f.toString()).rc()).isZero();
        assertThat(Xattr.get(f, Xattr.SECURITY_IMA)).hasValueSatisfying(v -> assertThat(v).isEqualTo(evmctl));
        // --cert and --keyid give the header evmctl's --keyid writes.
        assertThat(Tools.imans("sign", "--key", keys.resolve("rsa.pem").toString(), "--keyid", "0a0b0c0d", f.toString()).out())
                .contains("security.ima=0x0302040a0b0c0d");
        assertThat(Tools.imans("sign", "--key", keys.resolve("rsa.pem").toString(), "--cert",
                keys.resolve("rsa-cert.der").toString(), f.toString()).rc()).isZero();
        assertThat(Xattr.get(f, Xattr.SECURITY_IMA)).hasValueSatisfying(v -> assertThat(v).isEqualTo(evmctl));
    }

    @Test
    void recursiveSigning() throws Exception {
        Path d = Files.createDirectories(dir.resolve("tree/sub"));
        file("tree/one", "1\n");
        file("tree/sub/two", "2\n");
        Tools.Result s = Tools.imans("sign", "-r", "--key", keys.resolve("ec.pem").toString(), dir.resolve("tree").toString());
        assertThat(s.rc()).isZero();
        Tools.Result ev = Tools.run("evmctl", "ima_verify", "--key", keys.resolve("ec-cert.der").toString(),
                dir.resolve("tree/one").toString());
        assertThat(ev.rc()).isZero();
        assertThat(Tools.imans("verify", "-r", "--key", keys.resolve("ec-cert.pem").toString(), d.getParent().toString()).rc())
                .isZero();
    }
}
