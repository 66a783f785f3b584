package dev.imans.crypto;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/** Keys, certificates and evmctl output made once with openssl 3.0 and evmctl 1.4 (see the test resources). */
public final class Fixtures {
    /** sha256("hello\n"), the seed's file content. */
    public static final String HELLO_SHA256 = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";
    public static final String HELLO_SHA1 = "f572d396fae9206628714fb2ce00f72e94f2258f";
    public static final String HELLO_MD5 = "b1946ac92492d2347c6235b4d2611184";
    /** Last 4 bytes of rsa-cert's SubjectKeyIdentifier (openssl x509 -text). */
    public static final String RSA_KEYID = "85c5e0c8";
    public static final String EC_KEYID = "9d6c1ffa";

    private Fixtures() {}

    public static byte[] bytes(String name) {
        try (InputStream in = Fixtures.class.getResourceAsStream("/dev/imans/crypto/" + name)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource " + name);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static String text(String name) {
        return new String(bytes(name), StandardCharsets.US_ASCII).strip();
    }

    public static byte[] hello() {
        return "hello\n".getBytes(StandardCharsets.US_ASCII);
    }

    public static SigningKey signingKey(String name) {
        return KeyFiles.readSigningKey(bytes(name), name);
    }

    public static VerificationKey verificationKey(String name) {
        return KeyFiles.readVerificationKey(bytes(name), name);
    }
}
