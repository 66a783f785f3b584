package dev.imans.daemon.audit;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Writes records to the kernel log through {@code /dev/kmsg}, prefixed {@code audit: } as
 * kauditd prints them when no audit daemon listens. Each {@code write(2)} is one log record
 * (drivers/char/mem.c devkmsg_write), so a line is written in one call. dmesg shows them with the
 * kernel's own records; the {@code <5>} priority prefix is KERN_NOTICE, which audit uses.
 */
public final class KmsgAuditSink implements AuditSink {
    private static final Path KMSG = Path.of("/dev/kmsg");
    private final OutputStream out;

    private KmsgAuditSink(OutputStream out) {
        this.out = out;
    }

    public static KmsgAuditSink open() throws IOException {
        return new KmsgAuditSink(Files.newOutputStream(KMSG, StandardOpenOption.WRITE));
    }

    @Override
    public void write(String line) throws IOException {
        // Without the newline printk keeps the record open for a continuation: dmesg would not show it
        // until the next message arrives.
        String text = line.endsWith("\n") ? line : line + "\n";
        out.write(("<5>audit: " + text).getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    @Override
    public String describe() {
        return KMSG.toString();
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
