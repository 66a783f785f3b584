package dev.imans.daemon.measure;

import dev.imans.daemon.Log;
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
import java.time.Instant;

/**
 * The list files, one per scope in {@code <state dir>/measurements/}: {@code host.list} and
 * {@code <nsid>.list}, each in the {@link MeasurementListCodec} format. A file is created (or rewritten
 * after a failed append) whole, through a temporary file, fsync, an atomic rename and an fsync of the
 * directory; after that entries are only appended to it ({@link ListJournal}).
 */
final class ListFiles {
    static final String DIR = "measurements";
    private static final String SUFFIX = ".list";
    static final String HOST = "host";
    static final String ARCHIVE = "archive";
    /** When an archived list's namespace ended, in its file name: UTC, sortable, no colons. */
    private static final java.time.format.DateTimeFormatter STAMP =
            java.time.format.DateTimeFormatter.ofPattern("uuuuMMdd'T'HHmmss.SSS'Z'").withZone(java.time.ZoneOffset.UTC);

    private final Path dir;
    private final boolean fsync;

    /** @param fsync whether every append is followed by fsync (power failures, not only a killed daemon) */
    ListFiles(Path stateDir, boolean fsync) {
        this.dir = stateDir.resolve(DIR);
        this.fsync = fsync;
    }

    Path dir() {
        return dir;
    }

    static String name(NamespaceId id) {
        return Long.toString(id.inode());
    }

    Path file(String name) {
        return dir.resolve(name + SUFFIX);
    }

    /**
     * The list saved under {@code name}, or empty when there is none. A torn last record (the daemon was
     * killed inside a write) is cut off the file and logged; a file of an older format is rewritten.
     * The file is then ready for {@link #append}.
     *
     * @throws IOException naming the file when it cannot be read or repaired, or is damaged before its end
     */
    Optional<MeasurementList> load(String name, String label) throws IOException {
        Path f = file(name);
        if (!Files.exists(f)) {
            return Optional.empty();
        }
        MeasurementListCodec.Restored r;
        try {
            r = MeasurementListCodec.open(Files.readAllBytes(f));
        } catch (ListFormatException e) {
            throw new IOException(f + ": " + e.getMessage(), e);
        }
        if (r.torn().isPresent()) {
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
                ch.truncate(r.end());
                ch.force(true);
            }
            Log.warn(label + " measurement list " + f + ": dropped a torn last record (" + r.torn().get()
                    + "), left by a daemon stopped inside a write whose open was not yet answered; "
                    + r.list().runtimeMeasurementsCount() + " whole entries kept");
        }
        if (r.version() != MeasurementListCodec.VERSION) {
            replace(name, MeasurementListCodec.save(r.list()));
            Log.info(label + " measurement list " + f + " rewritten in format version " + MeasurementListCodec.VERSION);
        }
        return Optional.of(r.list());
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

    /** Replaces the file of {@code name} with {@code data} atomically and durably. */
    void replace(String name, byte[] data) throws IOException {
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
        Files.move(tmp, file(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }

    /** Opens the file of {@code name} for appending entries. */
    ListJournal append(String name) throws IOException {
        return ListJournal.open(file(name), fsync);
    }

    void delete(String name) throws IOException {
        Files.deleteIfExists(file(name));
    }

    /** The directory of archived lists. */
    Path archiveDir() {
        return dir.resolve(ARCHIVE);
    }

    /**
     * Moves the list of {@code name} to the archive as {@code <name>-<time>.list} (an atomic rename, so
     * the file is whole wherever a crash leaves it) and applies {@code policy}; the archived file, or
     * empty when {@code policy} keeps none or there was no file.
     */
    Optional<Path> archive(String name, Instant ended, ArchivePolicy policy) throws IOException {
        Path from = file(name);
        if (!Files.exists(from)) {
            return Optional.empty();
        }
        if (policy.keep() == 0) {
            Files.delete(from);
            return Optional.empty();
        }
        Path archive = archiveDir();
        Files.createDirectories(archive);
        Path to = archive.resolve(name + "-" + STAMP.format(ended) + SUFFIX);
        Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        for (Path d : List.of(dir, archive)) {
            try (FileChannel ch = FileChannel.open(d, StandardOpenOption.READ)) {
                ch.force(true);
            }
        }
        prune(policy, ended);
        return Optional.of(to);
    }

    /** Deletes the archived lists {@code policy} no longer keeps: the oldest beyond its count, and the expired. */
    void prune(ArchivePolicy policy, Instant now) throws IOException {
        List<ArchivedList> all = archived(archiveDir());
        Instant oldest = now.minus(policy.maxAge());
        for (int i = 0; i < all.size(); i++) {
            ArchivedList a = all.get(i);
            if (i < all.size() - policy.keep() || a.archived().isBefore(oldest)) {
                Files.deleteIfExists(a.file());
            }
        }
    }

    /** The archived lists in {@code archive}, oldest first; files not named as archives are left out. */
    static List<ArchivedList> archived(Path archive) throws IOException {
        List<ArchivedList> out = new ArrayList<>();
        if (!Files.isDirectory(archive)) {
            return out;
        }
        try (DirectoryStream<Path> s = Files.newDirectoryStream(archive, "*" + SUFFIX)) {
            for (Path p : s) {
                String n = p.getFileName().toString();
                int dash = n.indexOf('-');
                if (dash < 0) {
                    continue;
                }
                try {
                    out.add(new ArchivedList(Long.parseLong(n.substring(0, dash)),
                            STAMP.parse(n.substring(dash + 1, n.length() - SUFFIX.length()), Instant::from), p));
                } catch (NumberFormatException | java.time.format.DateTimeParseException e) {
                    // Not one of ours.
                }
            }
        }
        out.sort(java.util.Comparator.comparing(ArchivedList::archived).thenComparing(a -> a.file().toString()));
        return out;
    }
}
