package dev.imans.daemon.enforce;

import dev.imans.appraise.FileDigests;
import dev.imans.crypto.HashAlgo;
import dev.imans.linux.Errno;
import dev.imans.linux.Native;
import dev.imans.linux.Unistd;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.EnumMap;
import java.util.Map;

/**
 * Hashes a file through a descriptor with {@code pread(2)} from offset 0, as {@code ima_calc_file_hash}
 * reads it: never by path (a reopen would raise a permission event against the daemon itself and race
 * with renames), never moving the descriptor's offset. The kernel's event descriptors carry
 * FMODE_NONOTIFY, so these reads raise no events either.
 *
 * <p>One instance per thread: it owns a native buffer and one {@link MessageDigest} per algorithm.
 */
final class FdHasher {
    private static final int BUFFER = 256 * 1024;
    private static final ThreadLocal<FdHasher> PER_THREAD = ThreadLocal.withInitial(FdHasher::new);

    private final Arena arena = Arena.ofAuto();
    private final MemorySegment buf = arena.allocate(BUFFER, 4096);
    private final ByteBuffer view = buf.asByteBuffer();
    private final MemorySegment err = Native.errnoSegment(arena);
    private final Map<HashAlgo, MessageDigest> digests = new EnumMap<>(HashAlgo.class);

    static FdHasher forThread() {
        return PER_THREAD.get();
    }

    /**
     * The digest of the first {@code size} bytes of the descriptor's file (fewer if it is shorter now).
     * The size is the one the verdict will be filed under: reading to the current end instead would let
     * a writer that grows the file meanwhile (a sparse terabyte costs it nothing) hold the hashing
     * thread, and on the reader thread every opener with it.
     */
    byte[] digest(int fd, HashAlgo algo, long size) throws IOException {
        MessageDigest md = digests.computeIfAbsent(algo, HashAlgo::newDigest);
        try {
            long offset = 0;
            while (true) {
                if (offset >= size) {
                    return md.digest();
                }
                long n = Unistd.pread(err, fd, buf, Math.min(BUFFER, size - offset), offset);
                if (n == -Errno.EINTR) {
                    continue;
                }
                if (n < 0) {
                    throw new IOException("pread of fd " + fd + " failed: " + new Errno((int) -n).name());
                }
                if (n == 0) {
                    return md.digest();
                }
                view.clear().limit((int) n);
                md.update(view);
                offset += n;
            }
        } finally {
            md.reset();
        }
    }

    /** The appraisal's digest source for one descriptor, over the file's first {@code size} bytes. */
    static FileDigests of(int fd, long size) {
        return algo -> forThread().digest(fd, algo, size);
    }
}
