package dev.imans.daemon.enforce;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Keys and X.509 certificates made with the real tools: openssl for keys and certificates, the JDK's
 * keytool for certificates outside their validity period (OpenSSL 3.0 cannot set the dates).
 */
final class TestCerts {
    private final Path dir;

    TestCerts(Path dir) throws IOException {
        this.dir = Files.createDirectories(dir);
    }

    /** A private key in PEM: {@code ec} (P-256) or {@code rsa} (2048 bits). */
    Path key(String name, String type) throws IOException, InterruptedException {
        Path key = dir.resolve(name + ".key");
        if (type.equals("ec")) {
            Run.ok("openssl", "ecparam", "-genkey", "-name", "prime256v1", "-noout", "-out", key.toString());
        } else {
            Run.ok("openssl", "genrsa", "-out", key.toString(), "2048");
        }
        return key;
    }

    /**
     * A self-signed certificate of {@code key}, valid for 30 days from now, with the given keyUsage
     * (none when null), in DER or PEM.
     */
    Path cert(Path key, String subject, String keyUsage, boolean pem) throws IOException, InterruptedException {
        Path out = dir.resolve(key.getFileName() + "-" + Math.abs(subject.hashCode()) + (pem ? ".pem" : ".der"));
        var cmd = new java.util.ArrayList<>(java.util.List.of("openssl", "req", "-new", "-x509", "-key",
                key.toString(), "-subj", subject, "-days", "30", "-outform", pem ? "PEM" : "DER", "-out", out.toString()));
        if (keyUsage != null) {
            cmd.add("-addext");
            cmd.add("keyUsage=" + keyUsage);
        }
        Run.ok(cmd.toArray(String[]::new));
        return out;
    }

    /** A DER certificate with keyUsage digitalSignature whose validity starts at {@code start} (keytool's -startdate). */
    Path datedCert(String name, String start, int days) throws IOException, InterruptedException {
        Path store = dir.resolve(name + ".p12");
        Path out = dir.resolve(name + ".der");
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        Run.ok(keytool, "-genkeypair", "-keystore", store.toString(), "-storepass", "changeit", "-alias", name,
                "-keyalg", "EC", "-dname", "CN=" + name, "-startdate", start, "-validity", Integer.toString(days),
                "-ext", "KU=digitalSignature");
        Run.ok(keytool, "-exportcert", "-keystore", store.toString(), "-storepass", "changeit", "-alias", name,
                "-file", out.toString());
        return out;
    }

    /**
     * Signs {@code file} with {@code evmctl ima_sign} (sha256) and returns the key id its v2 header names,
     * read back from the label evmctl wrote.
     */
    static String sign(Path key, Path file) throws IOException, InterruptedException {
        Run.ok("evmctl", "ima_sign", "--key", key.toString(), "-a", "sha256", file.toString());
        String out = Run.ok("getfattr", "-n", "security.ima", "-e", "hex", file.toString());
        String hex = out.substring(out.indexOf("security.ima=0x") + "security.ima=0x".length());
        // 03 02 <hash algo> <4-byte key id> ...
        return hex.substring(6, 14);
    }
}
