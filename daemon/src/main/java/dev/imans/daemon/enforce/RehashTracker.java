package dev.imans.daemon.enforce;

import dev.imans.appraise.FixMode;
import dev.imans.crypto.HashAlgo;
import dev.imans.daemon.Log;
import dev.imans.linux.Fd;
import dev.imans.linux.Leases;
import dev.imans.linux.LinuxException;
import dev.imans.linux.Stat;
import dev.imans.linux.Xattr;
import dev.imans.xattr.ImaXattr;
import java.io.IOException;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Mainline IMA's re-hash on close, for scopes that ask for it: when a writer whose open was appraised
 * closes the file, {@code security.ima} is rewritten with the new content's hash
 * ({@code ima_check_last_writer} → {@code ima_update_xattr}, security/integrity/ima/ima_main.c and
 * ima_appraise.c), so the next open passes. The new label uses the daemon's {@code ima_hash} algorithm,
 * as the kernel's does. A signed file (0x03 or 0x06) is never re-hashed (the kernel keeps signatures as
 * they are).
 *
 * <p>The writer's open leaves a duplicate of its event descriptor here (read-only, FMODE_NONOTIFY: not a
 * writer, raises no events); the close-after-write notification hashes through it on this tracker's
 * own thread and closes it. An open that arrives before that notification was handled re-hashes first
 * through its own event descriptor, as the kernel's readers see the file "as last written" too.
 */
final class RehashTracker implements AutoCloseable {
    private final ConcurrentHashMap<FileKey, Fd> pending = new ConcurrentHashMap<>();
    private final ExecutorService closer = Executors.newSingleThreadExecutor(
            r -> Thread.ofPlatform().daemon().name("imans-rehash").unstarted(r));
    private final IntegrityCache cache;
    private final HashAlgo defaultAlgo;

    RehashTracker(IntegrityCache cache, HashAlgo defaultAlgo) {
        this.cache = cache;
        this.defaultAlgo = defaultAlgo;
    }

    /** Remembers a writer's open of the file behind {@code eventFd}. */
    void writerAppraised(FileKey key, int eventFd) {
        if (pending.containsKey(key)) {
            return;
        }
        try {
            Fd dup = DupFd.dup(eventFd);
            if (pending.putIfAbsent(key, dup) != null) {
                dup.close();
            }
        } catch (LinuxException e) {
            Log.warn("cannot keep the file for re-hash on close: " + e.getMessage());
        }
    }

    boolean isPending(FileKey key) {
        return pending.containsKey(key);
    }

    /** An open found a re-hash still owed: write the current hash through {@code eventFd} now. */
    void rehashNow(FileKey key, int eventFd) {
        if (pending.containsKey(key)) {
            synchronized (this) {
                rehash(key, eventFd);
            }
        }
    }

    /**
     * The modification watcher saw a close-after-write of the file. As {@code ima_check_last_writer},
     * only the last writer's close re-hashes: while another writer still holds the file, its later
     * writes would leave a label made at the first close stale, and the file refused. A file still
     * open for write stays owed; the next close-after-write, or the next open, re-hashes it.
     */
    void closedAfterWrite(FileKey key) {
        if (!pending.containsKey(key)) {
            return;
        }
        closer.execute(() -> {
            synchronized (this) {
                Fd fd = pending.get(key);
                if (fd == null || Leases.hasWriter(fd.value())) {
                    return;
                }
                pending.remove(key, fd);
                rehash(key, fd.value());
                fd.close();
            }
        });
    }

    private void rehash(FileKey key, int fd) {
        try {
            Optional<byte[]> raw = Xattr.get(fd, Xattr.SECURITY_IMA);
            Optional<ImaXattr> current = raw.map(ImaXattr::decode);
            // ima_update_xattr (ima_appraise.c) leaves an IMA_DIGSIG file (0x03 or 0x06 value) alone,
            // and otherwise hashes with ima_hash: ima_check_last_writer cleared IMA_COLLECTED, so
            // ima_collect_measurement runs again with ima_hash_algo, whatever the old label used.
            if (FixMode.isSignature(current)) {
                return;
            }
            HashAlgo algo = defaultAlgo;
            long size;
            try (Stat.Buffer st = new Stat.Buffer()) {
                if (st.fstat(fd) != 0) {
                    return;
                }
                // The size now, as the kernel's re-hash reads i_size: the writer has closed the file.
                size = st.size();
            }
            byte[] digest = FdHasher.forThread().digest(fd, algo, size);
            Xattr.set(fd, Xattr.SECURITY_IMA, ImaXattr.hash(algo, digest).encode());
            cache.forget(key);
        } catch (IOException | RuntimeException e) {
            Log.warn("re-hash on close of inode " + key.ino() + " failed: " + e.getMessage());
        }
    }

    @Override
    public void close() {
        closer.shutdownNow();
        pending.values().forEach(Fd::close);
        pending.clear();
    }
}
