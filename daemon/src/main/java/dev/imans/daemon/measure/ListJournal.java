package dev.imans.daemon.measure;

import java.io.ByteArrayOutputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.file.Path;

/**
 * One scope's list file held open for appending ({@code O_APPEND}). Each {@link #append} is one
 * {@code write(2)} of records already encoded: once it returns the records are in the kernel's page
 * cache and survive the death of the daemon process. Surviving a power failure needs {@code fsync}
 * as well, which {@code fsync} asks for after every write.
 *
 * <p>A {@link FileOutputStream}, not a {@code FileChannel}: a channel is closed when a thread writing
 * to it is interrupted, and the decision workers are interrupted at shutdown.
 */
final class ListJournal implements AutoCloseable {
    private final FileOutputStream out;
    private final boolean fsync;

    private ListJournal(FileOutputStream out, boolean fsync) {
        this.out = out;
        this.fsync = fsync;
    }

    static ListJournal open(Path file, boolean fsync) throws IOException {
        return new ListJournal(new FileOutputStream(file.toFile(), true), fsync);
    }

    /** Writes {@code records} whole at the end of the file (and syncs it when asked to). */
    void append(ByteArrayOutputStream records) throws IOException {
        // writeTo is one write(byte[], 0, size) call: the JDK loops only over a short write.
        records.writeTo(out);
        if (fsync) {
            out.getFD().sync();
        }
    }

    @Override
    public void close() {
        try {
            out.close();
        } catch (IOException e) {
            // Everything was written by append; a failed close loses nothing.
        }
    }
}
