package dev.imans.daemon.measure;

import dev.imans.crypto.HashAlgo;
import dev.imans.daemon.enforce.FileKey;
import dev.imans.daemon.enforce.FileStamp;
import dev.imans.daemon.health.Condition;
import dev.imans.daemon.health.Health;
import dev.imans.measure.MeasurementEntry;
import dev.imans.measure.MeasurementList;
import dev.imans.measure.MeasurementListCodec;
import dev.imans.measure.PcrBank;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One scope's measurement list (the host's or a registered namespace's), its file, and what it
 * measured: for each file, the version ({@link FileStamp}) last measured and into which PCRs, the
 * kernel's {@code IMA_MEASURED} and {@code measured_pcrs} of the inode's integrity data.
 *
 * <p>{@link #append} returns once the entry is in the list and written to the file, so an open is
 * answered only after its entry would survive the daemon being killed. Writes are grouped: the entries
 * of threads that append while another thread writes go out together in that thread's next write
 * (one {@code write(2)} for all of them), so concurrent openers share a system call instead of queueing
 * for one each.
 *
 * <p>Locks: this object guards the list and the encoded records not yet written ({@code pending});
 * {@code writeLock} (taken first) guards the file. The measured versions are a concurrent map the
 * decision threads use directly.
 */
final class ScopeList implements AutoCloseable {
    private record Measured(FileStamp stamp, int pcrs) {
        boolean has(FileStamp s, int pcr) {
            return stamp.equals(s) && (pcrs & (1 << pcr)) != 0;
        }
    }

    private final String label;
    private final String fileName;
    private final ListFiles files;
    private final Health health;
    private final MeasurementList list;
    private final ConcurrentHashMap<FileKey, Measured> measured = new ConcurrentHashMap<>();
    /** Records added to the list but not yet written; swapped with {@code writing} by the writer. */
    private ByteArrayOutputStream pending = new ByteArrayOutputStream(512);
    private long added;

    private final Object writeLock = new Object();
    private ByteArrayOutputStream writing = new ByteArrayOutputStream(512);
    private long written;
    /** Null while the file cannot be written (then {@link Condition#MEASUREMENTS_UNSAVED}) and once closed. */
    private ListJournal journal;
    private boolean closed;
    /** Set before the list is shared (at start, or at creation), cleared under writeLock at close. */
    private volatile TpmAnchor anchor;
    /** Entries (from the first) handed to the anchor; under writeLock. */
    private int anchored;
    /** The entries of a batch, for the anchor, in list order; under writeLock. */
    private final java.util.ArrayList<MeasurementEntry> toAnchor = new java.util.ArrayList<>();
    /** The anchor's error for an entry whose extension failed, until its appender takes it. */
    private final ConcurrentHashMap<Integer, Integer> anchorFailures = new ConcurrentHashMap<>();

    private ScopeList(String label, String fileName, ListFiles files, Health health, MeasurementList list) {
        this.label = label;
        this.fileName = fileName;
        this.files = files;
        this.health = health;
        this.list = list;
    }

    /** The list restored from its file, appended to from now on. */
    static ScopeList restored(String label, String fileName, ListFiles files, Health health, MeasurementList list) {
        ScopeList l = new ScopeList(label, fileName, files, health, list);
        synchronized (l.writeLock) {
            try {
                l.journal = files.append(fileName);
            } catch (IOException e) {
                l.unsaved(e);
            }
        }
        return l;
    }

    /** A new list whose file is written whole now (or, if it cannot be, by the health retry). */
    static ScopeList created(String label, String fileName, ListFiles files, Health health, MeasurementList list) {
        ScopeList l = new ScopeList(label, fileName, files, health, list);
        try {
            l.rewrite();
        } catch (IOException e) {
            synchronized (l.writeLock) {
                l.unsaved(e);
            }
        }
        return l;
    }

    /** From now on, every entry appended is extended into {@code a}'s PCR once it is written. */
    void anchor(TpmAnchor a) {
        synchronized (writeLock) {
            synchronized (this) {
                anchored = (int) list.runtimeMeasurementsCount();
            }
            this.anchor = a;
        }
    }

    /** Extends every entry the list holds into {@code a}'s PCR, then anchors the entries to come. */
    void anchorAll(TpmAnchor a) {
        synchronized (writeLock) {
            this.anchor = a;
            synchronized (this) {
                collectUnanchored();
            }
            extendCollected();
            // No appender waits for these: a failure is the anchor's health state alone.
            anchorFailures.clear();
        }
    }

    /** The list's name in the anchor log and the state directory: {@code host} or the namespace inode. */
    String fileName() {
        return fileName;
    }

    /** A list without a file: for logging the summary of a file being dropped. */
    static ScopeList detached(String label, MeasurementList list) {
        ScopeList l = new ScopeList(label, "", null, null, list);
        l.closed = true;
        return l;
    }

    String label() {
        return label;
    }

    boolean measured(FileKey key, FileStamp stamp, int pcr) {
        Measured m = measured.get(key);
        return m != null && m.has(stamp, pcr);
    }

    /** Marks this version as measured into {@code pcr}; true if it was not yet. */
    boolean claim(FileKey key, FileStamp stamp, int pcr) {
        boolean[] first = {false};
        measured.compute(key, (k, old) -> {
            if (old != null && old.has(stamp, pcr)) {
                return old;
            }
            first[0] = true;
            int pcrs = old != null && old.stamp.equals(stamp) ? old.pcrs : 0;
            return new Measured(stamp, pcrs | 1 << pcr);
        });
        return first[0];
    }

    void forget(FileKey key) {
        measured.remove(key);
    }

    /**
     * Adds {@code e} to the list (unless it is a duplicate) and writes its record to the file before
     * returning; while the file cannot be written the entry is kept in memory only (see {@link #rewrite}).
     * With a TPM anchor, the entry is then extended into its PCR.
     *
     * @return 0, or the TPM's error when the anchor PCR could not be extended (the kernel's tpmresult)
     */
    int append(MeasurementEntry e) {
        // Template digests outside the lock: the list needs them for ima_hash, every bank and the record.
        e.digest(list.imaHash());
        for (HashAlgo a : list.bankAlgos()) {
            e.digest(a);
        }
        e.digest(HashAlgo.SHA1);
        long seq;
        long index;
        synchronized (this) {
            MeasurementList.AddResult r = list.add(e);
            if (r != MeasurementList.AddResult.ADDED) {
                return 0;
            }
            MeasurementListCodec.writeRecord(pending, e);
            seq = ++added;
            index = list.runtimeMeasurementsCount() - 1;
        }
        commit(seq);
        if (anchor == null || anchorFailures.isEmpty()) {
            return 0;
        }
        Integer rc = anchorFailures.remove((int) index);
        return rc == null ? 0 : rc;
    }

    /**
     * Writes every record added up to {@code seq}, and those added meanwhile, unless a writer already did;
     * then, with an anchor, extends the PCR with them in list order: a scope's records in the anchor log
     * follow its list, and an appender whose entry another thread wrote returns after it was extended too.
     */
    private void commit(long seq) {
        synchronized (writeLock) {
            if (written >= seq) {
                return;
            }
            ByteArrayOutputStream batch;
            synchronized (this) {
                batch = pending;
                pending = writing;
                writing = batch;
                written = added;
                collectUnanchored();
            }
            try {
                if (journal != null) {
                    journal.append(batch);
                }
            } catch (IOException ex) {
                journal.close();
                journal = null;
                unsaved(ex);
            } finally {
                batch.reset();
            }
            extendCollected();
        }
    }

    /** Takes the entries not yet handed to the anchor. Under writeLock and this. */
    private void collectUnanchored() {
        if (anchor == null) {
            return;
        }
        int size = (int) list.runtimeMeasurementsCount();
        for (int i = anchored; i < size; i++) {
            toAnchor.add(list.entry(i));
        }
    }

    /** Extends the anchor PCR with the entries collected, in order, keeping the errors for their appenders. Under writeLock. */
    private void extendCollected() {
        if (toAnchor.isEmpty()) {
            return;
        }
        try {
            for (MeasurementEntry e : toAnchor) {
                int rc = anchor.extend(fileName, anchored, e);
                if (rc != 0) {
                    anchorFailures.put(anchored, rc);
                }
                anchored++;
            }
        } finally {
            toAnchor.clear();
        }
    }

    /** Enters {@link Condition#MEASUREMENTS_UNSAVED}, retried by writing the whole list anew. Under writeLock. */
    private void unsaved(IOException e) {
        if (closed) {
            return;
        }
        health.degrade(Condition.MEASUREMENTS_UNSAVED, label,
                "cannot write " + files.file(fileName) + ": " + e.getMessage()
                        + "; its entries since are in memory only (retried by writing the whole list)",
                Optional.of(this::rewrite));
    }

    /**
     * Writes the whole list to its file anew (atomically) and appends to that file from then on: how a
     * new list gets its file, and how one whose writes failed (a torn or missing tail) is made whole.
     */
    void rewrite() throws IOException {
        synchronized (writeLock) {
            if (closed) {
                return;
            }
            byte[] image;
            synchronized (this) {
                image = MeasurementListCodec.save(list);
                // Every record pending is in the image: writers waiting for them find them written.
                pending.reset();
                written = added;
                collectUnanchored();
            }
            if (journal != null) {
                journal.close();
                journal = null;
            }
            try {
                files.replace(fileName, image);
                journal = files.append(fileName);
            } finally {
                // Written or not, they are listed: the kernel extends whether its list is saved or not.
                extendCollected();
            }
        }
        health.recover(Condition.MEASUREMENTS_UNSAVED, label);
    }

    synchronized MeasurementList.Snapshot snapshot() {
        return list.snapshot();
    }

    /** Stops writing the file (it stays as it is); later appends change the list in memory only. */
    @Override
    public void close() {
        synchronized (writeLock) {
            closed = true;
            // An append racing with the end is kept in memory only: it is not extended either, so the
            // anchor's records of this list are those of its file.
            anchor = null;
            if (journal != null) {
                journal.close();
                journal = null;
            }
        }
        if (health != null) {
            health.recover(Condition.MEASUREMENTS_UNSAVED, label);
        }
    }

    /** {@code PCR-10 sha1:<hex> sha256:<hex>} for each PCR the list extended: for the log. */
    synchronized String pcrSummary() {
        StringBuilder b = new StringBuilder();
        b.append(list.runtimeMeasurementsCount()).append(" entries, ").append(list.violations()).append(" violations");
        PcrBank first = list.bank(list.bankAlgos().getFirst());
        for (int i = 0; i < PcrBank.PCR_COUNT; i++) {
            if (first.isZero(i)) {
                continue;
            }
            b.append(", PCR-").append(i);
            for (HashAlgo a : list.bankAlgos()) {
                b.append(' ').append(a.kernelName()).append(':').append(list.bank(a).hex(i));
            }
        }
        return b.toString();
    }
}
