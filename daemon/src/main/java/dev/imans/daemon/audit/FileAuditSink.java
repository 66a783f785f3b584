package dev.imans.daemon.audit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Appends records to a file, one line each, as {@code ausearch --raw} prints them. The file is
 * opened once with O_APPEND, so the daemon never opens it again while it holds permission events.
 */
public final class FileAuditSink implements AuditSink {
    /** The default audit log of {@code imans daemon}. */
    public static final Path DEFAULT = Path.of("/var/log/imans/audit.log");

    private final Path file;
    private final FileChannel out;

    private FileAuditSink(Path file, FileChannel out) {
        this.file = file;
        this.out = out;
    }

    public static FileAuditSink open(Path file) throws IOException {
        if (file.getParent() != null) {
            Files.createDirectories(file.getParent());
        }
        return new FileAuditSink(file, FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND));
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
