package dev.imans.cli;

import dev.imans.crypto.KeyFiles;
import dev.imans.crypto.Keyring;
import dev.imans.crypto.SigningKey;
import dev.imans.crypto.VerificationKey;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;

/**
 * Loads the keys named on the command line. An unusable key is a usage error (exit 2) that names the file
 * and the reason once, without the usage text: the command line was well formed, the file was not.
 */
final class KeyOptions {
    /** evmctl's default verification certificate (src/evmctl.c). */
    static final Path EVMCTL_DEFAULT_CERT = Path.of("/etc/keys/x509_evm.der");

    private KeyOptions() {}

    static SigningKey signingKey(CommandSpec spec, Path file) {
        try {
            return KeyFiles.readSigningKey(Files.readAllBytes(file), file.toString());
        } catch (IOException e) {
            throw new KeyError(spec, "cannot read key " + file + ": " + ListFile.reason(e));
        } catch (IllegalArgumentException e) {
            throw new KeyError(spec, e.getMessage());
        }
    }

    static VerificationKey verificationKey(CommandSpec spec, Path file) {
        try {
            return KeyFiles.readVerificationKey(Files.readAllBytes(file), file.toString());
        } catch (IOException e) {
            throw new KeyError(spec, "cannot read certificate " + file + ": " + ListFile.reason(e));
        } catch (IllegalArgumentException e) {
            throw new KeyError(spec, e.getMessage());
        }
    }

    /** {@code --key a,b}: like evmctl, a comma/space list; without it, evmctl's default certificate if present. */
    static Keyring keyring(CommandSpec spec, List<String> keyArgs) {
        List<String> names = new ArrayList<>();
        for (String k : keyArgs) {
            names.addAll(KeyFiles.splitKeyList(k));
        }
        if (names.isEmpty() && Files.isReadable(EVMCTL_DEFAULT_CERT)) {
            names.add(EVMCTL_DEFAULT_CERT.toString());
        }
        List<VerificationKey> keys = new ArrayList<>();
        for (String n : names) {
            keys.add(verificationKey(spec, Path.of(n)));
        }
        return Keyring.of(keys);
    }

    /** A key that cannot be used: reported by {@link Main}'s handler as one line, exit 2. */
    static final class KeyError extends RuntimeException {
        private static final long serialVersionUID = 1L;

        KeyError(CommandSpec spec, String message) {
            super("imans " + spec.qualifiedName(" ").replaceFirst("^imans ", "") + ": " + message);
        }
    }
}
