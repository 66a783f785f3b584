package dev.imans.daemon.enforce;

import dev.imans.appraise.AppraisalResult;
import dev.imans.appraise.Requirements;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The integrity cache: appraisal results per file, keyed by (dev, ino) and valid for one
 * {@link FileStamp} (size, mtime, ctime). A result is reused, in every namespace, until the file changes
 * from anywhere: a new stamp misses, and the modification watcher {@link #forget}s the file on every
 * write and close-after-write (which also covers writes through a shared mapping, which may leave
 * mtime alone). One file may hold results for several {@link Requirements} (a hash rule in one
 * namespace, {@code appraise_type=imasig} in another).
 *
 * <p>Thread-safe. Bounded: past {@link #MAX_FILES} files it starts over rather than grow without end
 * (a miss costs one hash, never a wrong verdict).
 */
public final class IntegrityCache {
    static final int MAX_FILES = 200_000;

    private record Entry(FileStamp stamp, Map<Requirements, AppraisalResult> results) {}

    private final ConcurrentHashMap<FileKey, Entry> entries = new ConcurrentHashMap<>();

    /** The result remembered for this file in this state under {@code req}. */
    public Optional<AppraisalResult> get(FileKey key, FileStamp stamp, Requirements req) {
        Entry e = entries.get(key);
        if (e == null || !e.stamp.equals(stamp)) {
            return Optional.empty();
        }
        return Optional.ofNullable(e.results.get(req));
    }

    /** Remembers {@code result} for this file in this state; results for an older state are dropped. */
    public void put(FileKey key, FileStamp stamp, Requirements req, AppraisalResult result) {
        if (entries.size() >= MAX_FILES && !entries.containsKey(key)) {
            entries.clear();
        }
        entries.compute(key, (k, old) -> {
            Entry e = old != null && old.stamp.equals(stamp) ? old : new Entry(stamp, new ConcurrentHashMap<>());
            e.results.put(req, result);
            return e;
        });
    }

    /** Drops everything known about the file (it was written). */
    public void forget(FileKey key) {
        entries.remove(key);
    }

    public void clear() {
        entries.clear();
    }

    public int size() {
        return entries.size();
    }
}
