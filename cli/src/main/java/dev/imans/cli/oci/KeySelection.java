package dev.imans.cli.oci;

import dev.imans.crypto.ImaCertificate;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The certificates the annotation {@value #KEYS} gives a container: files on the host, each an absolute
 * path or a name in the key directory, separated by commas, semicolons, white space or a literal
 * backslash-n (podman keeps only the first line of a multi-line annotation). Each file is checked as
 * the daemon will check it ({@link ImaCertificate}), so a bad one stops the container before anything
 * is registered.
 *
 * @param keyDir where names are looked up
 * @param absoluteFiles whether absolute paths are allowed (else names only)
 */
public record KeySelection(Path keyDir, boolean absoluteFiles) {
    /** The annotation naming the container's certificate files. */
    public static final String KEYS = "dev.imans.keys";
    /** The default of {@code --key-dir}. */
    public static final Path DEFAULT_KEY_DIR = Path.of("/etc/imans/keys");
    /** A certificate is a few KiB; a larger file is not one. */
    static final int MAX_BYTES = 1 << 20;

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._-]*");
    private static final Pattern SEPARATORS = Pattern.compile("(\\\\n|[,;\\s])+");

    /** One certificate file: its path and content, as it will be written to the namespace's keys file. */
    public record KeyFile(Path path, byte[] bytes, int certificates) {}

    /** The container's certificate files, each checked; empty when the annotation is not set. */
    public List<KeyFile> select(OciState state, Instant now) throws HookException {
        var value = state.annotation(KEYS);
        if (value.isEmpty()) {
            return List.of();
        }
        List<KeyFile> out = new ArrayList<>();
        for (String entry : SEPARATORS.split(value.get().strip())) {
            if (entry.isEmpty()) {
                continue;
            }
            Path file = resolve(entry);
            byte[] bytes = read(file);
            try {
                out.add(new KeyFile(file, bytes, ImaCertificate.admitAll(bytes, file.toString(), now).size()));
            } catch (IllegalArgumentException e) {
                throw new HookException("annotation " + KEYS + ": " + e.getMessage() + "; the container is not started");
            }
        }
        if (out.isEmpty()) {
            throw new HookException("annotation " + KEYS + " names no file");
        }
        return out;
    }

    private Path resolve(String value) throws HookException {
        if (value.startsWith("/")) {
            if (!absoluteFiles) {
                throw new HookException("annotation " + KEYS + ": " + value + ": absolute paths are not allowed"
                        + " here (--no-absolute-key-files); name a file in " + keyDir);
            }
            return Path.of(value);
        }
        if (!NAME.matcher(value).matches()) {
            throw new HookException("annotation " + KEYS + ": \"" + value + "\" is neither an absolute path nor a"
                    + " file name (letters, digits, '.', '_', '-'; not starting with '.' or '-')");
        }
        return keyDir.resolve(value);
    }

    private static byte[] read(Path file) throws HookException {
        if (!Files.isRegularFile(file)) {
            throw new HookException("annotation " + KEYS + ": certificate file " + file
                    + (Files.exists(file, LinkOption.NOFOLLOW_LINKS) ? " is not a regular file" : " does not exist"));
        }
        try (InputStream in = Files.newInputStream(file)) {
            byte[] bytes = in.readNBytes(MAX_BYTES + 1);
            if (bytes.length > MAX_BYTES) {
                throw new HookException("annotation " + KEYS + ": certificate file " + file + " is larger than "
                        + MAX_BYTES + " bytes");
            }
            return bytes;
        } catch (NoSuchFileException e) {
            throw new HookException("annotation " + KEYS + ": certificate file " + file + " does not exist");
        } catch (IOException e) {
            throw new HookException("annotation " + KEYS + ": cannot read certificate file " + file + ": "
                    + e.getMessage());
        }
    }
}
