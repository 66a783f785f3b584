package dev.imans.daemon.measure;

import dev.imans.crypto.HashAlgo;
import dev.imans.daemon.enforce.FileKey;
import dev.imans.daemon.enforce.FileStamp;
import dev.imans.measure.MeasurementEntry;
import dev.imans.measure.MeasurementList;
import dev.imans.measure.MeasurementListCodec;
import dev.imans.measure.PcrBank;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One scope's measurement list (the host's or a registered namespace's) with what it measured: for
 * each file, the version ({@link FileStamp}) last measured and into which PCRs, the kernel's
 * {@code IMA_MEASURED} and {@code measured_pcrs} of the inode's integrity data.
 *
 * <p>The list itself is guarded by this object's lock (the appender writes, control-file readers and the
 * saver take snapshots); the measured versions are a concurrent map the decision threads use directly.
 */
final class ScopeList {
    private record Measured(FileStamp stamp, int pcrs) {
        boolean has(FileStamp s, int pcr) {
            return stamp.equals(s) && (pcrs & (1 << pcr)) != 0;
        }
    }

    private final String label;
    private final MeasurementList list;
    private final ConcurrentHashMap<FileKey, Measured> measured = new ConcurrentHashMap<>();
    private boolean dirty;

    ScopeList(String label, MeasurementList list, boolean dirty) {
        this.label = label;
        this.list = list;
        this.dirty = dirty;
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

    synchronized MeasurementList.AddResult add(MeasurementEntry e) {
        MeasurementList.AddResult r = list.add(e);
        dirty |= r == MeasurementList.AddResult.ADDED;
        return r;
    }

    synchronized MeasurementList.Snapshot snapshot() {
        return list.snapshot();
    }

    /** The saved form if anything was added since the last call (which then counts as saved), else null. */
    synchronized byte[] takeDirty() {
        if (!dirty) {
            return null;
        }
        dirty = false;
        return MeasurementListCodec.save(list);
    }

    /** Marks the list as not saved (a save failed: try again on the next flush). */
    synchronized void markDirty() {
        dirty = true;
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
