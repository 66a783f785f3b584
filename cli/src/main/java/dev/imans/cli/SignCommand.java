package dev.imans.cli;

import dev.imans.crypto.DigestSignature;
import dev.imans.crypto.HashAlgo;
import dev.imans.crypto.KeyId;
import dev.imans.crypto.SigningKey;
import dev.imans.crypto.VerificationKey;
import dev.imans.linux.Xattr;
import dev.imans.xattr.ImaXattr;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code imans sign}: a v2 signature in {@code security.ima}, byte for byte what {@code evmctl ima_sign} writes. */
@Command(name = "sign", mixinStandardHelpOptions = true,
        description = {"Sign each file's digest into security.ima, as evmctl ima_sign does.",
                "The value is a v2 signature (0x03 0x02 <algo> <keyid> <size> <sig>), also printed like getfattr -e hex.",
                "RSA (PKCS#1 v1.5) and EC (ECDSA) keys; PKCS#8, PKCS#1 or SEC1 PEM, unencrypted."},
        exitCodeListHeading = "Exit codes:%n",
        exitCodeList = {"0:every file signed", "1:some file failed (each is reported on stderr)", "2:usage error"})
final class SignCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = {"-k", "--key"}, required = true, paramLabel = "PRIVKEY", description = "private key file (PEM)")
    Path key;

    @ArgGroup(exclusive = true)
    KeyIdSource keyIdSource;

    static final class KeyIdSource {
        @Option(names = "--keyid", paramLabel = "HEX", description = "key id to write (evmctl --keyid)")
        String keyId;

        @Option(names = {"--cert", "--keyid-from-cert"}, paramLabel = "CERT",
                description = "take the key id from this certificate's SubjectKeyIdentifier")
        Path cert;
    }

    @Option(names = {"-a", "--algo"}, paramLabel = "ALGO", converter = AlgoConverter.class, defaultValue = "sha256",
            description = "hash algorithm (default: ${DEFAULT-VALUE})")
    HashAlgo algo;

    @Mixin
    FileArgs files;

    @Override
    public Integer call() {
        SigningKey signing = KeyOptions.signingKey(spec, key);
        KeyId id = keyId(signing);
        PrintWriter out = spec.commandLine().getOut();
        FileRun run = new FileRun("sign", spec.commandLine().getErr());
        return run.run(files.paths, files.recursive, f -> {
            byte[] digest = run.digester().digest(algo, f);
            byte[] sig = DigestSignature.sign(signing.privateKey(), algo, digest);
            byte[] value = ImaXattr.SignatureV2.of(algo, id, sig).encode();
            Xattr.set(f, Xattr.SECURITY_IMA, value);
            out.print(XattrText.block(f, Xattr.SECURITY_IMA, value));
            out.flush();
            return true;
        });
    }

    /** evmctl's order: --keyid, else the certificate's SKID, else the key file's certificate or public key. */
    private KeyId keyId(SigningKey signing) {
        try {
            if (keyIdSource != null && keyIdSource.keyId != null) {
                return KeyId.parse(keyIdSource.keyId);
            }
            if (keyIdSource != null && keyIdSource.cert != null) {
                VerificationKey c = KeyOptions.verificationKey(spec, keyIdSource.cert);
                return c.subjectKeyId().orElseThrow(() -> new IllegalArgumentException(
                        keyIdSource.cert + ": the certificate has no SubjectKeyIdentifier"));
            }
            return signing.defaultKeyId();
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
    }
}
