package dev.imans.crypto;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The certificates of a key directory such as {@code /etc/keys/ima}, which boot scripts load into the
 * kernel's {@code .ima} keyring one file each ({@code evmctl import}). A missing directory holds no
 * keys; every file that is not a certificate imans admits ({@link ImaCertificate}) is reported with
 * its reason, never skipped in silence.
 *
 * @param keys the admitted certificates, by file name, each once
 * @param problems one line per file refused, {@code <file>: <reason>}
 */
public record KeyDirectory(List<ImaCertificate> keys, List<String> problems) {
    /** A certificate is a few KiB; a larger file is not one. */
    static final int MAX_BYTES = 1 << 20;

    public KeyDirectory {
        keys = List.copyOf(keys);
        problems = List.copyOf(problems);
    }

    /** Reads {@code dir}; a directory that does not exist gives no keys and no problems. */
    public static KeyDirectory load(Path dir, Instant now) {
        List<ImaCertificate> keys = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS) && !Files.exists(dir)) {
            return new KeyDirectory(keys, problems);
        }
        if (!Files.isDirectory(dir)) {
            return new KeyDirectory(keys, List.of(dir + ": not a directory"));
        }
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            s.forEach(files::add);
        } catch (IOException e) {
            return new KeyDirectory(keys, List.of(dir + ": cannot be listed: " + e.getMessage()));
        }
        files.sort(null);
        for (Path f : files) {
            if (!Files.isRegularFile(f)) {
                problems.add(f + ": not a regular file");
                continue;
            }
            byte[] data;
            try (InputStream in = Files.newInputStream(f)) {
                data = in.readNBytes(MAX_BYTES + 1);
            } catch (NoSuchFileException e) {
                continue;
            } catch (IOException e) {
                problems.add(f + ": cannot be read: " + e.getMessage());
                continue;
            }
            if (data.length > MAX_BYTES) {
                problems.add(f + ": larger than " + MAX_BYTES + " bytes, not a certificate");
                continue;
            }
            try {
                for (ImaCertificate c : ImaCertificate.admitAll(data, f.toString(), now)) {
                    if (keys.stream().noneMatch(c::sameAs)) {
                        keys.add(c);
                    }
                }
            } catch (IllegalArgumentException e) {
                problems.add(e.getMessage());
            }
        }
        return new KeyDirectory(keys, problems);
    }

    /** The admitted keys as a keyring. */
    public Keyring keyring() {
        return Keyring.of(keys.stream().map(ImaCertificate::key).toList());
    }
}
