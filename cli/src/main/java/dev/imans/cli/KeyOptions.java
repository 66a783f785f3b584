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
import picocli.CommandLine.ParameterException;

/** Loads the keys named on the command line; an unusable key is a usage error (exit 2) naming the file. */
final class KeyOptions {
    /** evmctl's default verification certificate (src/evmctl.c). */
    static final Path EVMCTL_DEFAULT_CERT = Path.of("/etc/keys/x509_evm.der");

    private KeyOptions() {}

    static SigningKey signingKey(CommandSpec spec, Path file) {
        try {
            return KeyFiles.readSigningKey(Files.readAllBytes(file), file.toString());
        } catch (IOException e) {
            throw new ParameterException(spec.commandLine(), "cannot read key " + file + ": " + e.getMessage());
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
    }

    static VerificationKey verificationKey(CommandSpec spec, Path file) {
        try {
            return KeyFiles.readVerificationKey(Files.readAllBytes(file), file.toString());
        } catch (IOException e) {
            throw new ParameterException(spec.commandLine(), "cannot read certificate " + file + ": " + e.getMessage());
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
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
}
