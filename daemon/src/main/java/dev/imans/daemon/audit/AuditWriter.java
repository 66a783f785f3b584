package dev.imans.daemon.audit;

import dev.imans.audit.AuditEncoder;
import dev.imans.audit.AuditRecord;
import dev.imans.audit.AuditSerial;
import dev.imans.audit.AuditStamp;
import dev.imans.daemon.Log;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Agent: the audit writer, one platform thread that renders records in the kernel's text and hands
 * them to every {@link AuditSink}.
 *
 * <p>Owns: the serial counter and the queue. {@link #submit} stamps the record with the time of the
 * decision and the next serial, and only queues it: deciders call it after their verdict is fixed and
 * it never blocks or does I/O, so an opener never waits for a log write (fapolicyd's journald deadlock,
 * spec fanotify.md 1.7). A full queue drops the record and counts it rather than stall an opener.
 * Must not: open files while running (sinks are opened before it starts).
 */
public final class AuditWriter implements AutoCloseable {
    private static final int CAPACITY = 65_536;

    private record Pending(AuditStamp stamp, AuditRecord record) {}

    private final AuditEncoder encoder;
    private final List<AuditSink> sinks;
    private final BlockingQueue<Pending> queue = new ArrayBlockingQueue<>(CAPACITY);
    private final AtomicLong serial = new AtomicLong();
    private final AtomicLong submitted = new AtomicLong();
    private final AtomicLong written = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final Thread thread;
    private volatile boolean stopping;
    private final java.util.concurrent.atomic.AtomicBoolean reopenRequested =
            new java.util.concurrent.atomic.AtomicBoolean();
    private volatile java.util.function.Consumer<String> reopenFailure = why -> { };
    private volatile Runnable reopened = () -> { };

    public AuditWriter(AuditEncoder encoder, List<AuditSink> sinks) {
        this.encoder = encoder;
        this.sinks = List.copyOf(sinks);
        this.thread = Thread.ofPlatform().name("imans-audit").daemon().unstarted(this::run);
        thread.start();
    }

    public AuditEncoder encoder() {
        return encoder;
    }

    /** Queues {@code record}, stamped now with the next serial; false if it had to be dropped. */
    public boolean submit(AuditRecord record) {
        long s = serial.incrementAndGet() & 0xffff_ffffL;
        Pending p = new Pending(new AuditStamp(System.currentTimeMillis(), new AuditSerial(s)), record);
        if (stopping || !queue.offer(p)) {
            dropped.incrementAndGet();
            return false;
        }
        submitted.incrementAndGet();
        return true;
    }

    /**
     * Asks the writer to reopen its file sinks (SIGHUP after log rotation) before it writes its next
     * record, and within {@code 200 ms} when idle. Records written before go to the old file (which a
     * rotation renamed), later ones to the new: none is lost. Never blocks.
     */
    public void reopen() {
        reopenRequested.set(true);
    }

    /** Whom to tell when a reopen fails (the cause) or succeeds after a failure; one pair per writer. */
    public void onReopen(java.util.function.Consumer<String> failure, Runnable success) {
        this.reopenFailure = failure;
        this.reopened = success;
    }

    /** Records written to the sinks so far. */
    public long written() {
        return written.get();
    }

    /** Records dropped because the queue was full or the writer stopped. */
    public long dropped() {
        return dropped.get();
    }

    /** Waits until everything submitted so far was written (tests, shutdown); false on timeout. */
    public boolean awaitWritten(Duration timeout) throws InterruptedException {
        long target = submitted.get();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (written.get() < target) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(5);
        }
        return true;
    }

    private void run() {
        while (!stopping || !queue.isEmpty()) {
            Pending p;
            try {
                p = queue.poll(200, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                continue;
            }
            // Checked after the poll: a record submitted after the request goes to the new file.
            if (reopenRequested.getAndSet(false)) {
                reopenSinks();
            }
            if (p == null) {
                continue;
            }
            String line = encoder.line(p.stamp(), p.record());
            for (AuditSink sink : sinks) {
                try {
                    sink.write(line);
                } catch (IOException | RuntimeException e) {
                    Log.error("audit record not written to " + sink.describe() + ": " + e.getMessage());
                }
            }
            written.incrementAndGet();
        }
    }

    private void reopenSinks() {
        String failed = null;
        for (AuditSink sink : sinks) {
            try {
                sink.reopen();
            } catch (IOException | RuntimeException e) {
                failed = "cannot reopen " + sink.describe() + ": " + e.getMessage();
            }
        }
        if (failed != null) {
            reopenFailure.accept(failed);
        } else {
            Log.info("audit log reopened");
            reopened.run();
        }
    }

    /** Writes what is queued (up to two seconds), stops the thread and closes the sinks. */
    @Override
    public void close() {
        try {
            awaitWritten(Duration.ofSeconds(2));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        stopping = true;
        try {
            thread.join(Duration.ofSeconds(2));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (AuditSink sink : sinks) {
            try {
                sink.close();
            } catch (IOException e) {
                Log.error("closing audit sink " + sink.describe() + ": " + e.getMessage());
            }
        }
        if (dropped.get() > 0) {
            Log.warn(dropped.get() + " audit record(s) were dropped (queue full or writer stopping)");
        }
    }
}
