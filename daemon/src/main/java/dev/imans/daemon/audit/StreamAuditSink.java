package dev.imans.daemon.audit;

import java.io.PrintStream;

/** Writes records to a stream such as standard error, prefixed {@code audit: } like the kernel log. */
public final class StreamAuditSink implements AuditSink {
    private final PrintStream out;
    private final String name;

    public StreamAuditSink(PrintStream out, String name) {
        this.out = out;
        this.name = name;
    }

    public static StreamAuditSink stderr() {
        return new StreamAuditSink(System.err, "stderr");
    }

    @Override
    public void write(String line) {
        out.println("audit: " + line);
        out.flush();
    }

    @Override
    public String describe() {
        return name;
    }

    @Override
    public void close() {
        out.flush();
    }
}
