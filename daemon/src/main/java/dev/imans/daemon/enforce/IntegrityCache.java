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
     * map's atomic compute. Most files have one result and one digest, held in fields of their own (a
     * {@code Map.of} per kind cost 32 bytes each); more go to {@code more} and {@code moreDigests}. The
     * stamp is held in fields, not as a {@link FileStamp}. The commonest result, a pass on a
     * {@code security.ima} hash equal to the digest slot's, is kept as its reason alone and rebuilt when
     * asked for: its digest, algorithm and label are the slot's (a result object, its label and their
     * optionals cost about 100 bytes a file, bench/rss.sh).
     */
    private static final class Entry {
        final long size;
        final long mtimeSec;
        final long ctimeSec;
        final int mtimeNsec;
        final int ctimeNsec;
        final AppraisalKey key;
        /** The first result, or null with {@link #passReason} set when it is the slot's pass. */
        final AppraisalResult result;
        final String passReason;
        final Map<AppraisalKey, AppraisalResult> more;
        final HashAlgo algo;
        final byte[] digest;
        final Map<HashAlgo, byte[]> moreDigests;

        private Entry(long size, long mtimeSec, int mtimeNsec, long ctimeSec, int ctimeNsec, AppraisalKey key,
                AppraisalResult result, String passReason, Map<AppraisalKey, AppraisalResult> more, HashAlgo algo,
                byte[] digest, Map<HashAlgo, byte[]> moreDigests) {
            this.size = size;
            this.mtimeSec = mtimeSec;
            this.mtimeNsec = mtimeNsec;
            this.ctimeSec = ctimeSec;
            this.ctimeNsec = ctimeNsec;
            this.key = key;
            this.more = more;
            this.algo = algo;
            this.digest = digest;
            this.moreDigests = moreDigests;
            if (result != null && isSlotPass(result, algo, digest)) {
                this.result = null;
                this.passReason = result.reason();
            } else {
                this.result = result == null ? null : sharing(result, algo, digest);
                this.passReason = result == null ? passReason : null;
            }
        }

        Entry(FileStamp s) {
            this(s.size(), s.mtimeSec(), s.mtimeNsec(), s.ctimeSec(), s.ctimeNsec(), null, null, null, Map.of(), null,
                    null, Map.of());
        }

        boolean hasStamp(FileStamp s) {
            return size == s.size() && mtimeSec == s.mtimeSec() && mtimeNsec == s.mtimeNsec()
                    && ctimeSec == s.ctimeSec() && ctimeNsec == s.ctimeNsec();
        }

        private AppraisalResult first() {
            if (result != null || passReason == null) {
                return result;
            }
            return new AppraisalResult(dev.imans.appraise.IntegrityStatus.PASS, Optional.empty(), algo,
                    Optional.of(digest), Optional.of(new dev.imans.xattr.ImaXattr.DigestNg(algo, digest)), passReason);
        }

        AppraisalResult result(AppraisalKey k) {
            return k.equals(key) ? first() : more.get(k);
        }

        byte[] digest(HashAlgo a) {
            return a == algo ? digest : moreDigests.get(a);
        }

        Entry withResult(AppraisalKey k, AppraisalResult r) {
            if (key == null || key.equals(k)) {
                return new Entry(size, mtimeSec, mtimeNsec, ctimeSec, ctimeNsec, k, r, null, more, algo, digest,
                        moreDigests);
            }
            return new Entry(size, mtimeSec, mtimeNsec, ctimeSec, ctimeNsec, key, result, passReason,
                    plus(more, k, sharing(r, algo, digest)), algo, digest, moreDigests);
        }

        Entry withDigest(HashAlgo a, byte[] d) {
            if (algo == null || algo == a) {
                // The first result is rebuilt from the slot if it was kept as its reason (same algorithm,
                // same digest: the slot is only ever set again to the same file version's digest).
                return new Entry(size, mtimeSec, mtimeNsec, ctimeSec, ctimeNsec, key, first(), null, more, a, d,
                        moreDigests);
            }
            return new Entry(size, mtimeSec, mtimeNsec, ctimeSec, ctimeNsec, key, result, passReason, more, algo,
                    digest, plus(moreDigests, a, d));
        }

        /** Whether {@code r} is a pass on a hash label that is exactly the digest slot's digest. */
        private static boolean isSlotPass(AppraisalResult r, HashAlgo algo, byte[] digest) {
            return digest != null && r.passed() && r.cause().isEmpty() && r.algo() == algo
                    && r.digest().isPresent() && java.util.Arrays.equals(r.digest().get(), digest)
                    && r.xattr().isPresent() && r.xattr().get() instanceof dev.imans.xattr.ImaXattr.DigestNg ng
                    && ng.algo() == algo && java.util.Arrays.equals(ng.digest(), digest);
        }

        /** {@code r} with its digest and its label's digest as the digest slot's array, where equal. */
        private static AppraisalResult sharing(AppraisalResult r, HashAlgo algo, byte[] digest) {
            if (digest == null || r.algo() != algo || r.digest().isEmpty() || r.digest().get() == digest
                    || !java.util.Arrays.equals(r.digest().get(), digest)) {
                return r;
            }
            Optional<dev.imans.xattr.ImaXattr> label = r.xattr();
            if (label.isPresent() && label.get() instanceof dev.imans.xattr.ImaXattr.DigestNg ng
                    && ng.algo() == algo && java.util.Arrays.equals(ng.digest(), digest)) {
                label = Optional.of(new dev.imans.xattr.ImaXattr.DigestNg(algo, digest));
            }
            return new AppraisalResult(r.status(), r.cause(), r.algo(), Optional.of(digest), label, r.reason());
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
        if (e == null || !e.hasStamp(stamp)) {
            return Optional.empty();
        }
        return Optional.ofNullable(e.result(req));
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
            Entry e = old != null && old.hasStamp(stamp) ? old : new Entry(stamp);
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
            if (e != null && e.hasStamp(stamp)) {
                byte[] d = e.digest(algo);
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
            Entry e = old != null && old.hasStamp(stamp) ? old : new Entry(stamp);
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
        if (shared == null || !shared.hasStamp(stamp)) {
            return false;
        }
        if (entries.size() >= MAX_FILES && !entries.containsKey(key)) {
            clear();
        }
        return entries.compute(key, (k, old) -> !current(k, token) || old != null && old.hasStamp(stamp)
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
        return e != null && e.hasStamp(stamp);
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

    /**
     * Drops what is known of the file's version {@code stamp} only: a newer version's entry, judged on
     * the new content, stays. For a check that runs late (after the answer, on the marker thread) and
     * finds the file moved since its event: forgetting everything then threw away what a later open
     * had learnt of the new version.
     */
    public void forgetVersion(FileKey key, FileStamp stamp) {
        entries.computeIfPresent(key, (k, e) -> e.hasStamp(stamp) ? null : e);
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
