package dev.imans.daemon.measure;

import dev.imans.daemon.Log;
import dev.imans.daemon.health.Condition;
import dev.imans.daemon.health.Health;
import dev.imans.measure.MeasurementEntry;
import dev.imans.tpm.AnchorLog;
import dev.imans.tpm.TpmAlg;
import dev.imans.tpm.TpmClient;
import dev.imans.tpm.TpmException;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The hardware anchor of the measurement lists: every entry of every list is extended into one TPM PCR
 * the operator chose, so one quote of that PCR covers every scope's list. What was extended is kept in
 * the anchor log ({@link AnchorLog}, {@code <state>/measurements/tpm-anchor.log}), each record written
 * before its extension: the PCR holds the replay of the log or of a prefix of it, never anything the log
 * does not show.
 *
 * <p>An epoch is the PCR from its reset value on. At start the PCR is compared with the log: the log's
 * replay (the epoch goes on), a prefix of it (the daemon stopped between writing records and extending
 * them: those are extended now), or the reset value (a new TPM or a reboot: a new epoch extends every
 * entry of every current list, host first, then namespaces by inode, each list in order). Anything else
 * is {@link Condition#TPM_ANCHOR_MISMATCH}, and the PCR is left alone.
 *
 * <p>{@link #extend} runs on the opener's path, after the entry is written to its list and before the
 * open is answered, as the kernel extends before the measured open returns; the lock keeps the log's order
 * that of the extensions. A failed extension (the kernel's {@code TPM_error}) leaves its record, and every
 * later one, pending: they are extended in order once the TPM takes them again
 * ({@link Condition#TPM_EXTEND_FAILED}).
 */
public final class TpmAnchor implements AutoCloseable {
    /** The errno the kernel's TPM layer returns when it cannot reach the chip: what a transport failure audits. */
    public static final int EIO = -5;
    private static final HexFormat HEX = HexFormat.of();

    private final TpmClient tpm;
    private final int pcr;
    private final Path file;
    private final Health health;
    private final String bootId;
    private final String subject;
    /** Set at start, before any {@link #extend}; never changed after. */
    private volatile List<TpmAlg> banks;
    private FileOutputStream out;
    /** The PCR after the records extended so far. */
    private AnchorLog.Replay extended;
    /** Records written to the log whose extension failed, or came after one that did; oldest first. */
    private final ArrayDeque<AnchorLog.Record> pending = new ArrayDeque<>();
    private int lastError;
    /** For metrics and the state report, read without the lock (a slow TPM holds it). */
    private volatile long recordCount;
    private volatile int pendingCount;
    private final java.util.concurrent.atomic.AtomicLong extensions = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong failures = new java.util.concurrent.atomic.AtomicLong();
    /** The PCR no longer follows the log: nothing more is extended. */
    private volatile boolean stopped;
    /** The anchor was brought in line with the lists at start (or by the retry of a TPM unavailable then). */
    private volatile boolean started;
    /** Where the lists are read from when the anchor is brought in line with them. */
    private final java.util.function.Supplier<Map<String, List<MeasurementEntry>>> lists;
    /** Per scope, the index of its next entry to record: records follow list order, each entry once. */
    private final Map<String, Long> next = new java.util.HashMap<>();
    /** Lists archived before the anchor started (at this daemon's start, or while the TPM was unavailable). */
    private final Map<String, String> archivedMeanwhile = new java.util.HashMap<>();

    /** An anchor that cannot work with this TPM whatever is retried (no bank this daemon can hash). */
    public static final class UnusableException extends IOException {
        private static final long serialVersionUID = 1L;

        UnusableException(String message) {
            super(message);
        }
    }

    private TpmAnchor(TpmClient tpm, int pcr, Path file, Health health, String bootId,
                      java.util.function.Supplier<Map<String, List<MeasurementEntry>>> lists) {
        this.lists = lists;
        this.tpm = tpm;
        this.pcr = pcr;
        this.file = file;
        this.health = health;
        this.bootId = bootId;
        this.subject = "PCR " + pcr + " of " + tpm.transport().name();
    }

    /** The log of {@code stateDir}. */
    public static Path logFile(Path stateDir) {
        return stateDir.resolve(ListFiles.DIR).resolve(AnchorLog.FILE);
    }

    /**
     * Brings the anchor in line with the lists (each scope's entries, in the order a new epoch extends
     * them, read from {@code lists} under the anchor's lock) and returns it ready for {@link #extend}. A
     * TPM that cannot be used now is {@link Condition#TPM_UNAVAILABLE}, retried: enforcement does not wait
     * for it, and the lists are anchored whole once it answers.
     *
     * @throws UnusableException when the PCR is allocated in no bank this daemon can hash
     */
    public static TpmAnchor start(Path stateDir, TpmClient tpm, int pcr, String bootId, Health health,
                                  java.util.function.Supplier<Map<String, List<MeasurementEntry>>> lists)
            throws UnusableException {
        return start(stateDir, tpm, pcr, bootId, health, lists, Map.of());
    }

    /**
     * @param archivedBefore the lists archived by this daemon before the anchor starts (namespaces that
     *                       ended while no daemon ran): scope to archived file name, as for {@link #ended}
     */
    public static TpmAnchor start(Path stateDir, TpmClient tpm, int pcr, String bootId, Health health,
                                  java.util.function.Supplier<Map<String, List<MeasurementEntry>>> lists,
                                  Map<String, String> archivedBefore) throws UnusableException {
        TpmAnchor a = new TpmAnchor(tpm, pcr, logFile(stateDir), health, bootId, lists);
        synchronized (a) {
            a.archivedMeanwhile.putAll(archivedBefore);
            try {
                a.reconcile(lists.get());
                a.started = true;
            } catch (UnusableException e) {
                throw e;
            } catch (IOException e) {
                health.degrade(Condition.TPM_UNAVAILABLE, a.subject, "cannot anchor the measurement lists: "
                        + e.getMessage() + "; measured opens are audited as TPM_error(" + EIO + ") until it can"
                        + " (retried)", Optional.of(a::retryStart));
            }
        }
        return a;
    }

    /** The retry of {@link Condition#TPM_UNAVAILABLE}: the start, with the lists as they are now. */
    private synchronized void retryStart() throws IOException {
        if (started || stopped) {
            return;
        }
        reconcile(lists.get());
        started = true;
    }

    public int pcr() {
        return pcr;
    }

    /**
     * The anchor now: the records of this epoch's log, those not yet extended, the extensions done and
     * failed since the daemon started, and whether the PCR still follows the log.
     */
    public record Stats(String subject, List<TpmAlg> banks, long records, int pending, long extensions, long failures,
                        boolean following) {
        /** One line for the state report. */
        public String line() {
            return subject + ", banks " + String.join(",", banks.stream().map(a -> a.hash().kernelName()).toList())
                    + ": " + records + " records this epoch, " + pending + " not yet extended, " + extensions
                    + " extensions and " + failures + " failures since start" + (following ? "" : "; NOT FOLLOWING THE LOG");
        }
    }

    public Stats stats() {
        return new Stats(subject, banks == null ? List.of() : banks, recordCount, pendingCount, extensions.get(),
                failures.get(), !stopped);
    }

    public List<TpmAlg> banks() {
        return banks;
    }

    private void reconcile(Map<String, List<MeasurementEntry>> lists) throws IOException {
        next.clear();
        List<TpmAlg> allocated = new ArrayList<>();
        for (TpmAlg a : tpm.banks(pcr)) {
            if (a.hash().isSupported()) {
                allocated.add(a);
            }
        }
        if (allocated.isEmpty()) {
            throw new UnusableException(subject + " is allocated in no PCR bank whose hash this daemon computes");
        }
        banks = List.copyOf(allocated);
        Optional<AnchorLog.Parsed> log = readLog();
        if (log.isPresent() && log.get().header().pcr() == pcr && log.get().header().banks().equals(allocated)) {
            AnchorLog.Parsed p = log.get();
            Map<TpmAlg, byte[]> now = tpm.read(pcr, allocated);
            Optional<Integer> k = AnchorLog.matchingPrefix(allocated, p.records(), now);
            if (k.isPresent() && k.get() > 0) {
                resume(p, k.get(), lists);
                return;
            }
            if (!AnchorLog.isReset(now)) {
                mismatch(p.records().size(), now);
                return;
            }
        } else {
            Map<TpmAlg, byte[]> now = tpm.read(pcr, allocated);
            if (!AnchorLog.isReset(now)) {
                mismatch(-1, now);
                return;
            }
        }
        newEpoch(lists);
    }

    /** The log, its torn last line cut off; empty when there is none or it is not readable as one. */
    private Optional<AnchorLog.Parsed> readLog() throws IOException {
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        AnchorLog.Parsed p;
        try {
            p = AnchorLog.parse(Files.readAllBytes(file));
        } catch (AnchorLog.FormatException e) {
            Log.warn("TPM anchor log " + file + " is damaged (" + e.getMessage() + "); only a PCR at its reset"
                    + " value can start a new epoch");
            return Optional.empty();
        }
        if (p.torn()) {
            // A record cut off inside its write was never extended (the extension follows the write).
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                ch.truncate(p.end());
                ch.force(true);
            }
            Log.warn("TPM anchor log " + file + ": dropped a torn last record, never extended");
        }
        return Optional.of(p);
    }

    /** The epoch goes on: records written but not extended are extended, then entries never recorded. */
    private void resume(AnchorLog.Parsed p, int matched, Map<String, List<MeasurementEntry>> lists) throws IOException {
        extended = new AnchorLog.Replay(banks);
        for (int i = 0; i < matched; i++) {
            extended.extend(p.records().get(i));
        }
        if (!p.header().bootId().equals(bootId)) {
            Log.info("TPM anchor: the epoch of boot " + p.header().bootId() + " goes on (the PCR holds its log)");
        }
        out = new FileOutputStream(file.toFile(), true);
        recordCount = p.records().size();
        pending.addAll(p.records().subList(matched, p.records().size()));
        drain();
        if (matched < p.records().size()) {
            Log.warn("TPM anchor: extended " + (p.records().size() - matched) + " record(s) of the log the daemon"
                    + " had written but not extended when it stopped");
        }
        // Where each scope's list is in the log: an end line starts it anew.
        int e = 0;
        for (int i = 0; i <= p.records().size(); i++) {
            while (e < p.ends().size() && p.ends().get(e).before() == i) {
                next.remove(p.ends().get(e).scope());
                e++;
            }
            if (i < p.records().size()) {
                AnchorLog.Record r = p.records().get(i);
                next.merge(r.scope(), r.index() + 1, Math::max);
            }
        }
        // Lists that ended while the daemon was not recording: archived at this start, or before.
        for (String scope : List.copyOf(next.keySet())) {
            if (!lists.containsKey(scope)) {
                writeEnd(scope, archivedMeanwhile.getOrDefault(scope, AnchorLog.End.DROPPED));
            }
        }
        // Entries written to a list by a daemon stopped before it wrote their records: the last of their lists.
        int caught = 0;
        for (Map.Entry<String, List<MeasurementEntry>> l : lists.entrySet()) {
            for (int i = next.getOrDefault(l.getKey(), 0L).intValue(); i < l.getValue().size(); i++) {
                record(AnchorLog.Record.of(l.getKey(), i, l.getValue().get(i), banks));
                caught++;
            }
        }
        if (caught > 0) {
            Log.warn("TPM anchor: recorded and extended " + caught + " list entr" + (caught == 1 ? "y" : "ies")
                    + " the daemon had listed but not recorded when it stopped");
        }
        Log.info("TPM anchor: " + subject + " holds the replay of " + file + " (" + (p.records().size() + caught)
                + " records); the epoch goes on");
    }

    /** A reset PCR: a new log of every entry of every list, written whole, then extended. */
    private void newEpoch(Map<String, List<MeasurementEntry>> lists) throws IOException {
        List<AnchorLog.Record> records = new ArrayList<>();
        next.clear();
        lists.forEach((scope, entries) -> {
            for (int i = 0; i < entries.size(); i++) {
                records.add(AnchorLog.Record.of(scope, i, entries.get(i), banks));
            }
            next.put(scope, (long) entries.size());
        });
        java.io.ByteArrayOutputStream image = new java.io.ByteArrayOutputStream();
        image.writeBytes(new AnchorLog.Header(bootId, pcr, banks).bytes());
        records.forEach(r -> image.writeBytes(r.bytes()));
        replace(image.toByteArray());
        out = new FileOutputStream(file.toFile(), true);
        recordCount = records.size();
        extended = new AnchorLog.Replay(banks);
        pending.addAll(records);
        drain();
        Log.info("TPM anchor: " + subject + " was at its reset value: new epoch, " + records.size()
                + " entries of " + lists.size() + " list(s) extended (banks " + bankNames() + ", log " + file + ")");
    }

    private void mismatch(int logRecords, Map<TpmAlg, byte[]> now) {
        stopped = true;
        StringBuilder values = new StringBuilder();
        now.forEach((a, v) -> values.append(' ').append(a.hash().kernelName()).append(':').append(HEX.formatHex(v)));
        health.degrade(Condition.TPM_ANCHOR_MISMATCH, subject, "the PCR (" + values.toString().strip()
                + ") holds neither the replay of " + (logRecords < 0 ? "an anchor log (none usable for these banks)"
                : file + " (" + logRecords + " records)") + " nor its reset value; it is not extended until the TPM"
                + " is reset (a reboot), which starts a new epoch");
    }

    private void replace(byte[] data) throws IOException {
        Files.createDirectories(file.getParent());
        Path tmp = file.resolveSibling(AnchorLog.FILE + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer b = ByteBuffer.wrap(data);
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        try (FileChannel d = FileChannel.open(file.getParent(), StandardOpenOption.READ)) {
            d.force(true);
        }
    }

    /**
     * Records entry {@code index} of {@code scope}'s list in the log and extends the PCR with it. Call
     * after the entry is written to its list, before the open is answered.
     *
     * @return 0, or the kernel's {@code tpmresult} when the PCR was not extended: the TPM's response code,
     *     or {@link #EIO} when the TPM could not be reached or the log not written
     */
    public int extend(String scope, long index, MeasurementEntry e) {
        // The digests (a template hash per bank) outside the lock every opener's extension waits for.
        AnchorLog.Record r = started ? AnchorLog.Record.of(scope, index, e, banks) : null;
        synchronized (this) {
            if (stopped) {
                return 0;
            }
            if (!started) {
                // Listed already: the start that brings the anchor in line reads it from its list.
                return EIO;
            }
            return record(r != null ? r : AnchorLog.Record.of(scope, index, e, banks));
        }
    }

    /**
     * The list of {@code scope} ended (its namespace is gone) and was archived as {@code archivedFile} (a
     * file name in the archive, or {@link AnchorLog.End#DROPPED}): its records so far belong to that file,
     * and a later list of the same scope (a reused inode) is recorded from its entry 0.
     */
    public synchronized void ended(String scope, String archivedFile) {
        if (stopped) {
            return;
        }
        if (!started) {
            archivedMeanwhile.put(scope, archivedFile);
            return;
        }
        if (next.containsKey(scope)) {
            writeEnd(scope, archivedFile);
        }
    }

    private void writeEnd(String scope, String archivedFile) {
        try {
            out.write(AnchorLog.End.bytes(scope, archivedFile));
            next.remove(scope);
        } catch (IOException ex) {
            stopped = true;
            health.degrade(Condition.TPM_ANCHOR_MISMATCH, subject, "cannot write " + file + " (" + ex.getMessage()
                    + "): the end of the list of " + scope + " is not recorded, and nothing more is");
        }
    }

    /** Writes {@code r} to the log, then extends the PCR with it (or queues it behind a failed one). */
    private int record(AnchorLog.Record r) {
        if (r.index() < next.getOrDefault(r.scope(), 0L)) {
            // Recorded by the start that read it from its list while its appender waited for this lock.
            return 0;
        }
        next.put(r.scope(), r.index() + 1);
        try {
            // One write(2): a record is whole in the log or cut off (and then dropped at start, never extended).
            out.write(r.bytes());
            recordCount++;
        } catch (IOException ex) {
            stopped = true;
            health.degrade(Condition.TPM_ANCHOR_MISMATCH, subject, "cannot write " + file + " (" + ex.getMessage()
                    + "): " + r + " is neither recorded nor extended, and nothing more is");
            return EIO;
        }
        if (!pending.isEmpty()) {
            pending.add(r);
            pendingCount = pending.size();
            return lastError;
        }
        return extendNow(r);
    }

    /** Extends a record already in the log; on failure it waits, in order, with those after it. */
    private int extendNow(AnchorLog.Record r) {
        try {
            tpm.extend(pcr, r.bankDigests(banks));
            extended.extend(r);
            extensions.incrementAndGet();
            return 0;
        } catch (IOException ex) {
            pending.add(r);
            pendingCount = pending.size();
            failed(r, ex);
            return lastError;
        }
    }

    /** Extends the pending records in order, until one fails. */
    private void drain() {
        pendingCount = pending.size();
        while (!pending.isEmpty()) {
            AnchorLog.Record r = pending.peekFirst();
            try {
                tpm.extend(pcr, r.bankDigests(banks));
            } catch (IOException ex) {
                failed(r, ex);
                return;
            }
            extended.extend(r);
            extensions.incrementAndGet();
            pending.removeFirst();
            pendingCount = pending.size();
        }
    }

    private void failed(AnchorLog.Record r, IOException ex) {
        lastError = ex instanceof TpmException t ? t.rc() : EIO;
        failures.incrementAndGet();
        health.degrade(Condition.TPM_EXTEND_FAILED, subject, "extending " + r + " failed (" + ex.getMessage()
                + "); it and the entries after it are in the lists and the anchor log, not yet in the PCR"
                + " (retried)", Optional.of(this::catchUp));
    }

    /**
     * The retry of {@link Condition#TPM_EXTEND_FAILED}: finds how many pending records the PCR took (a
     * command whose answer was lost may have been carried out) and extends the rest, in order.
     */
    private synchronized void catchUp() throws IOException {
        if (stopped) {
            return;
        }
        Map<TpmAlg, byte[]> now = tpm.read(pcr, banks);
        AnchorLog.Replay r = extended.copy();
        int taken = -1;
        if (r.matches(now)) {
            taken = 0;
        }
        int i = 0;
        for (AnchorLog.Record p : pending) {
            i++;
            r.extend(p);
            if (r.matches(now)) {
                taken = i;
            }
        }
        if (taken < 0) {
            pending.clear();
            pendingCount = 0;
            mismatch(-1, now);
            health.recover(Condition.TPM_EXTEND_FAILED, subject);
            return;
        }
        for (int k = 0; k < taken; k++) {
            extended.extend(pending.removeFirst());
            extensions.incrementAndGet();
        }
        pendingCount = pending.size();
        while (!pending.isEmpty()) {
            AnchorLog.Record p = pending.peekFirst();
            try {
                tpm.extend(pcr, p.bankDigests(banks));
            } catch (IOException ex) {
                failures.incrementAndGet();
                throw ex;
            }
            extended.extend(p);
            extensions.incrementAndGet();
            pending.removeFirst();
            pendingCount = pending.size();
        }
        Log.info("TPM anchor: the pending records are extended; " + subject + " holds the log's replay again");
    }

    private String bankNames() {
        return String.join(",", banks.stream().map(a -> a.hash().kernelName()).toList());
    }

    @Override
    public synchronized void close() {
        stopped = true;
        if (out != null) {
            try {
                out.close();
            } catch (IOException e) {
                // Every record was written by its own write; nothing is buffered.
            }
            out = null;
        }
    }
}
