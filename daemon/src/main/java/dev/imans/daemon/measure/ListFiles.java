package dev.imans.daemon.measure;

import dev.imans.measure.ListFormatException;
import dev.imans.measure.MeasurementList;
import dev.imans.measure.MeasurementListCodec;
import dev.imans.ns.NamespaceId;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The saved lists, one file per scope in {@code <state dir>/measurements/}: {@code host.list} and
 * {@code <nsid>.list}, each a {@link MeasurementListCodec} image (a short header, then the kernel's
 * binary list). A file is replaced whole (temporary file, fsync, atomic rename, fsync of the
 * directory): a crash leaves the previous save or the new one.
 */
final class ListFiles {
    static final String DIR = "measurements";
    private static final String SUFFIX = ".list";
    static final String HOST = "host";

    private final Path dir;

    ListFiles(Path stateDir) {
        this.dir = stateDir.resolve(DIR);
    }

    Path dir() {
        return dir;
    }

    static String name(NamespaceId id) {
        return Long.toString(id.inode());
    }

    /**
     * The list saved under {@code name}, or empty when there is none.
     *
     * @throws IOException naming the file when it cannot be read or is not an intact saved list
     */
    Optional<MeasurementList> load(String name) throws IOException {
        Path f = dir.resolve(name + SUFFIX);
        if (!Files.exists(f)) {
            return Optional.empty();
        }
        try {
            return Optional.of(MeasurementListCodec.restore(Files.readAllBytes(f)));
        } catch (ListFormatException e) {
            throw new IOException(f + ": " + e.getMessage(), e);
        }
    }

    /** The names of the saved namespace lists (not the host's). */
    List<String> namespaceNames() throws IOException {
        List<String> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, "*" + SUFFIX)) {
            for (Path p : s) {
                String n = p.getFileName().toString();
                n = n.substring(0, n.length() - SUFFIX.length());
                if (!n.equals(HOST)) {
                    out.add(n);
                }
            }
        }
        return out;
    }

    void save(String name, byte[] data) throws IOException {
        Files.createDirectories(dir);
        Path tmp = dir.resolve(name + SUFFIX + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer b = ByteBuffer.wrap(data);
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(true);
        }
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
        Files.move(tmp, dir.resolve(name + SUFFIX), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }

    void delete(String name) throws IOException {
        Files.deleteIfExists(dir.resolve(name + SUFFIX));
    }
}
