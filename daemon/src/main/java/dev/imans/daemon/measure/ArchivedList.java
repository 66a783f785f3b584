package dev.imans.daemon.measure;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

/**
 * The measurement list of a namespace that ended, kept in {@code <state>/measurements/archive/} as
 * {@code <nsid>-<uuuuMMdd'T'HHmmss.SSS'Z'>.list} (the time it was archived, UTC), in the same format as
 * a live list's file: its records replay to the namespace's final PCR values.
 */
public record ArchivedList(long nsid, Instant archived, Path file) {
    /** The archived lists under {@code stateDir}, oldest first. */
    public static List<ArchivedList> in(Path stateDir) throws IOException {
        return ListFiles.archived(stateDir.resolve(ListFiles.DIR).resolve(ListFiles.ARCHIVE));
    }
}
