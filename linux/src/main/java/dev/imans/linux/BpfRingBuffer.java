package dev.imans.linux;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.util.function.Consumer;

/**
 * The consumer side of a {@code BPF_MAP_TYPE_RINGBUF} map (kernel/bpf/ringbuf.c): a writable page with
 * the consumer position, then a read-only page with the producer position followed by the data area,
 * mapped twice in a row so a record that wraps reads as one. Each record starts with an 8-byte header
 * whose length word has a busy bit (still being written) and a discard bit.
 */
public final class BpfRingBuffer implements AutoCloseable {
    private static final int BUSY = 1 << 31;
    private static final int DISCARD = 1 << 30;
    private static final int HEADER = 8;
    private static final long PAGE = 4096;
    private static final VarHandle LONG = JAVA_LONG.varHandle();
    private static final VarHandle INT = JAVA_INT.varHandle();

    private final Fd map;
    private final long size;
    private final MemorySegment consumer;
    private final MemorySegment producer;
    private boolean closed;

    /** A new ring buffer map of {@code size} bytes (a power of two, at least a page). */
    public static BpfRingBuffer create(int size, String name) throws LinuxException {
        Fd map = Bpf.mapCreate(Bpf.MAP_TYPE_RINGBUF, 0, 0, size, name);
        try {
            return new BpfRingBuffer(map, size);
        } catch (LinuxException | RuntimeException e) {
            map.close();
            throw e;
        }
    }

    private BpfRingBuffer(Fd map, long size) throws LinuxException {
        this.map = map;
        this.size = size;
        this.consumer = Bpf.map(map, PAGE, Bpf.PROT_READ | Bpf.PROT_WRITE, 0);
        try {
            this.producer = Bpf.map(map, PAGE + 2 * size, Bpf.PROT_READ, PAGE);
        } catch (LinuxException e) {
            Bpf.unmap(consumer);
            throw e;
        }
    }

    /** The map, for a program's {@code bpf_ringbuf_output}. */
    public Fd map() {
        return map;
    }

    /** Waits up to {@code timeoutMillis} for records; true if some may be there. */
    public boolean await(int timeoutMillis) throws LinuxException {
        return Poll.one(map.value(), Poll.POLLIN, timeoutMillis) != 0 || pending();
    }

    private boolean pending() {
        return (long) LONG.getAcquire(consumer, 0L) < (long) LONG.getAcquire(producer, 0L);
    }

    /** Hands every complete record to {@code sink} (a copy of its bytes); returns how many. */
    public int drain(Consumer<byte[]> sink) {
        long cons = (long) LONG.getAcquire(consumer, 0L);
        long prod = (long) LONG.getAcquire(producer, 0L);
        int n = 0;
        while (cons < prod) {
            long at = PAGE + (cons & (size - 1));
            int len = (int) INT.getAcquire(producer, at);
            if ((len & BUSY) != 0) {
                break;
            }
            int bytes = len & ~(BUSY | DISCARD);
            if ((len & DISCARD) == 0) {
                byte[] record = new byte[bytes];
                MemorySegment.copy(producer, JAVA_BYTE, at + HEADER, record, 0, bytes);
                sink.accept(record);
                n++;
            }
            cons += (bytes + HEADER + 7) & ~7L;
            LONG.setRelease(consumer, 0L, cons);
        }
        return n;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        Bpf.unmap(producer);
        Bpf.unmap(consumer);
        map.close();
    }
}
