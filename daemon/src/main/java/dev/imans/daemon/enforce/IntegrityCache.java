package dev.imans.daemon.enforce;

import dev.imans.appraise.AppraisalResult;
import dev.imans.appraise.FileDigests;
import dev.imans.appraise.Requirements;
import dev.imans.crypto.HashAlgo;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The integrity cache: appraisal results per file, keyed by (dev, ino) and valid for one
 * {@link FileStamp} (size, mtime, ctime). A result is reused, in every namespace, until the file changes
 * from anywhere: a new stamp misses, and the modification watcher {@link #forget}s the file on every
 * write and close-after-write (which also covers writes through a shared mapping, which may leave
 * mtime alone). One file may hold results for several {@link Requirements} (a hash rule in one
 * namespace, {@code appraise_type=imasig} in another) and keyrings ({@link AppraisalKey}), and the file's digests: appraisal and
 * measurement hash a file version once per algorithm, whichever asks first.
 *
 * <p>A result is stored only if the file was not forgotten while it was computed ({@link Token}): on
 * filesystems with coarse timestamps a same-size write within one clock tick keeps the stamp, and the
 * write's forget could otherwise come before the put of a result about the old content.
 *
 * <p>Thread-safe. Bounded: past {@link #MAX_FILES} files it starts over rather than grow without end
 * (a miss costs one hash, never a wrong verdict).
 */
public final class IntegrityCache {
    static final int MAX_FILES = 200_000;

    /**
     * One file version's results and digests, immutable: every change makes a new entry inside the
     * map's atomic compute. Most files have one of each, which {@code Map.of} holds in two fields,
     * where a concurrent map per file cost about 300 bytes more (100,000 files, bench/rss.sh).
     */
    private record Entry(FileStamp stamp, Map<AppraisalKey, AppraisalResult> results, Map<HashAlgo, byte[]> digests) {
        Entry(FileStamp stamp) {
            this(stamp, Map.of(), Map.of());
        }

        Entry withResult(AppraisalKey key, AppraisalResult result) {
            return new Entry(stamp, plus(results, key, result), digests);
        }

        Entry withDigest(HashAlgo algo, byte[] digest) {
            return new Entry(stamp, results, plus(digests, algo, digest));
        }

        private static <K, V> Map<K, V> plus(Map<K, V> m, K k, V v) {
            if (m.isEmpty() || m.size() == 1 && m.containsKey(k)) {
                return Map.of(k, v);
            }
            Map<K, V> copy = new java.util.HashMap<>(m);
            copy.put(k, v);
            return Map.copyOf(copy);
        }
    }

    private final ConcurrentHashMap<FileKey, Entry> entries = new ConcurrentHashMap<>();
    /** The real inode behind an overlay file ({@link #shareOverlay}) -> the overlay file last seen for it. */
    private final ConcurrentHashMap<java.nio.ByteBuffer, FileKey> origins = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<FileKey, Long> forgets = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<AppraisalKey, AppraisalKey> requirements = new ConcurrentHashMap<>();
    private final AtomicLong clears = new AtomicLong();

    /** What was known about a file's modifications when a computation about it began. */
    public record Token(long clears, long forgets) {}

    /** Take before reading anything of the file that a result will rest on. */
    public Token token(FileKey key) {
        return new Token(clears.get(), forgets.getOrDefault(key, 0L));
    }

    private boolean current(FileKey key, Token t) {
        return clears.get() == t.clears() && forgets.getOrDefault(key, 0L) == t.forgets();
    }

    /** The result remembered for this file in this state under {@code req}. */
    public Optional<AppraisalResult> get(FileKey key, FileStamp stamp, AppraisalKey req) {
        Entry e = entries.get(key);
        if (e == null || !e.stamp.equals(stamp)) {
            return Optional.empty();
        }
        return Optional.ofNullable(e.results.get(req));
    }

    /**
     * Remembers {@code result} for this file in this state, unless the file was forgotten since
     * {@code token} was taken; results for an older state are dropped.
     */
    public void put(FileKey key, FileStamp stamp, AppraisalKey req, AppraisalResult result, Token token) {
        if (entries.size() >= MAX_FILES && !entries.containsKey(key)) {
            clear();
        }
        // One key object per requirements and keyring, not one per file (each event builds its own).
        AppraisalKey shared = requirements.putIfAbsent(req, req);
        AppraisalKey canonical = shared != null ? shared : req;
        if (requirements.size() > 1024) {
            requirements.clear();
        }
        entries.compute(key, (k, old) -> {
            if (!current(k, token)) {
                return old;
            }
            Entry e = old != null && old.stamp.equals(stamp) ? old : new Entry(stamp);
            return e.withResult(canonical, result);
        });
    }

    /**
     * The file's digests in this state, computed through {@code fd} on first use and remembered: a
     * second appraisal or a measurement of the same version does not read the file again.
     */
    public FileDigests digests(FileKey key, FileStamp stamp, int fd) {
        Token token = token(key);
        return algo -> {
            Entry e = entries.get(key);
            if (e != null && e.stamp.equals(stamp)) {
                byte[] d = e.digests.get(algo);
                if (d != null) {
                    return d.clone();
                }
            }
            byte[] d = FdHasher.forThread().digest(fd, algo, stamp.size());
            putDigest(key, stamp, algo, d, token);
            return d.clone();
        };
    }

    private void putDigest(FileKey key, FileStamp stamp, HashAlgo algo, byte[] digest, Token token) {
        if (entries.size() >= MAX_FILES && !entries.containsKey(key)) {
            clear();
        }
        entries.compute(key, (k, old) -> {
            if (!current(k, token)) {
                return old;
            }
            Entry e = old != null && old.stamp.equals(stamp) ? old : new Entry(stamp);
            return e.withDigest(algo, digest.clone());
        });
    }

    /**
     * Lets an overlay file start from what is known of another overlay's file on the same real inode:
     * every container of an image sees a layer's files through an overlay of its own, under a device
     * number of its own, while their content is the layer's. {@code origin} is the overlay's file handle
     * ({@code OVL_FILEID_V1}: the layer's UUID and the real inode's handle, the same through every
     * overlay); the other file's entry is taken only for the same {@link FileStamp}, which overlayfs
     * reports from the real inode, as it does for one overlay's own entries. Handles of a layer without
     * a UUID cannot tell filesystems apart and are not used.
     *
     * @return whether the file now starts from the other file's entry
     */
    public boolean shareOverlay(FileKey key, FileStamp stamp, dev.imans.linux.FileHandles.Handle origin) {
        if (origin.type() != dev.imans.linux.FileHandles.OVL_FILEID_V1 || !hasLayerUuid(origin.bytes())) {
            return false;
        }
        Token token = token(key);
        java.nio.ByteBuffer id = java.nio.ByteBuffer.wrap(origin.bytes());
        FileKey other = origins.put(id, key);
        if (origins.size() > MAX_FILES) {
            origins.clear();
        }
        if (other == null || other.equals(key)) {
            return false;
        }
        Entry shared = entries.get(other);
        if (shared == null || !shared.stamp.equals(stamp)) {
            return false;
        }
        if (entries.size() >= MAX_FILES && !entries.containsKey(key)) {
            clear();
        }
        return entries.compute(key, (k, old) -> !current(k, token) || old != null && old.stamp.equals(stamp)
                ? old : shared) == shared;
    }

    /** Whether one of the layer's UUID bytes (struct ovl_fh: 3 bytes of padding, then ovl_fb's 5 bytes) is set. */
    private static boolean hasLayerUuid(byte[] fh) {
        if (fh.length < 24) {
            return false;
        }
        for (int i = 8; i < 24; i++) {
            if (fh[i] != 0) {
                return true;
            }
        }
        return false;
    }

    /** Whether anything is known of the file in this state. */
    boolean knows(FileKey key, FileStamp stamp) {
        Entry e = entries.get(key);
        return e != null && e.stamp.equals(stamp);
    }

    /** Drops everything known about the file (it was written). */
    public void forget(FileKey key) {
        // Count first, then drop: a put that passed its check before the count is removed here, one
        // that checks after it stores nothing.
        forgets.merge(key, 1L, Long::sum);
        entries.remove(key);
        if (forgets.size() > MAX_FILES) {
            clear();
        }
    }

    public void clear() {
        clears.incrementAndGet();
        entries.clear();
        forgets.clear();
        origins.clear();
    }

    public int size() {
        return entries.size();
    }
}
