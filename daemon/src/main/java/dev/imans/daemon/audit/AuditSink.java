package dev.imans.daemon.audit;

import java.io.IOException;

/**
 * Where audit lines go: a file, the kernel log, standard error. Called only from the
 * {@link AuditWriter}'s thread, never on an opener's critical path.
 */
public interface AuditSink extends AutoCloseable {
    /** Writes one record as {@code type=N audit(...): body}, without the newline. */
    void write(String line) throws IOException;

    /**
     * Starts writing to a fresh file where the sink has one (log rotation: after the old file was
     * renamed). On failure the sink keeps writing where it did. Called on the writer's thread only,
     * between two records, so no record is split or lost.
     */
    default void reopen() throws IOException {}

    /** A short name for error messages, e.g. the file path. */
    String describe();

    @Override
    void close() throws IOException;
}
