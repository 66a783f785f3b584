package dev.imans.daemon.audit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Appends records to a file, one line each, as {@code ausearch --raw} prints them, with O_APPEND.
 * The file is opened at start and again only on {@link #reopen} (SIGHUP, after log rotation), from
 * the audit writer's thread, which holds no permission event: an event the open raises against the
 * daemon's own process is answered at once by the reader.
 */
public final class FileAuditSink implements AuditSink {
    /** The default audit log of {@code imans daemon}. */
    public static final Path DEFAULT = Path.of("/var/log/imans/audit.log");

    private final Path file;
    private FileChannel out;

    private FileAuditSink(Path file, FileChannel out) {
        this.file = file;
        this.out = out;
    }

    public static FileAuditSink open(Path file) throws IOException {
        if (file.getParent() != null) {
            Files.createDirectories(file.getParent());
        }
        return new FileAuditSink(file, openAppend(file));
    }

    private static FileChannel openAppend(Path file) throws IOException {
        return FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
    }

    /** Opens {@code file} anew (creating it if it was moved away) and closes the old channel. */
    @Override
    public void reopen() throws IOException {
        if (file.getParent() != null) {
            Files.createDirectories(file.getParent());
        }
        FileChannel fresh = openAppend(file);
        FileChannel old = out;
        out = fresh;
        old.close();
    }

    @Override
    public void write(String line) throws IOException {
        ByteBuffer b = ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8));
        while (b.hasRemaining()) {
            out.write(b);
        }
    }

    @Override
    public String describe() {
        return file.toString();
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
