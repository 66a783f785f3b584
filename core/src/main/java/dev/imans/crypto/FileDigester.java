package dev.imans.crypto;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.EnumMap;
import java.util.Map;

/**
 * Streams file content through a {@link HashAlgo}'s digest, the way {@code ima_calc_file_hash}
 * hashes the whole file from offset 0.
 *
 * <p>One instance owns one reusable direct buffer and one {@link MessageDigest} per algorithm, so
 * hashing many files allocates nothing per file beyond the result. An instance is not
 * thread-safe: give each worker thread its own.
 */
public final class FileDigester {
    /** Large enough that the per-read overhead is noise next to SHA-256, small enough to keep per thread. */
    public static final int DEFAULT_BUFFER_SIZE = 256 * 1024;

    private final ByteBuffer buffer;
    private final byte[] array;
    private final Map<HashAlgo, MessageDigest> digests = new EnumMap<>(HashAlgo.class);

    public FileDigester() {
        this(DEFAULT_BUFFER_SIZE);
    }

    public FileDigester(int bufferSize) {
        if (bufferSize < 4096) {
            throw new IllegalArgumentException("buffer of " + bufferSize + " bytes is below one page");
        }
        this.buffer = ByteBuffer.allocateDirect(bufferSize);
        // MessageDigest copies direct buffers through a small temporary array; feeding it a heap
        // array we own avoids that second copy on the stream path and keeps it allocation-free.
        this.array = new byte[bufferSize];
    }

    /** The digest of everything {@code channel} yields from its current position to its end. */
    public byte[] digest(HashAlgo algo, ReadableByteChannel channel) throws IOException {
        MessageDigest md = messageDigest(algo);
        try {
            while (true) {
                buffer.clear();
                int n = channel.read(buffer);
                if (n < 0) {
                    break;
                }
                buffer.flip();
                md.update(buffer);
            }
            return md.digest();
        } finally {
            md.reset();
        }
    }

    /** The digest of the whole file, from offset 0 whatever the channel's position. */
    public byte[] digest(HashAlgo algo, FileChannel channel) throws IOException {
        MessageDigest md = messageDigest(algo);
        try {
            long position = 0;
            while (true) {
                buffer.clear();
                int n = channel.read(buffer, position);
                if (n < 0) {
                    break;
                }
                position += n;
                buffer.flip();
                md.update(buffer);
            }
            return md.digest();
        } finally {
            md.reset();
        }
    }

    public byte[] digest(HashAlgo algo, InputStream in) throws IOException {
        MessageDigest md = messageDigest(algo);
        try {
            int n;
            while ((n = in.read(array)) >= 0) {
                md.update(array, 0, n);
            }
            return md.digest();
        } finally {
            md.reset();
        }
    }

    /** Opens {@code file} read-only (following links, as open(2) does) and digests it. */
    public byte[] digest(HashAlgo algo, Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return digest(algo, ch);
        }
    }

    /** Digest of an in-memory buffer, for known-answer checks and small data. */
    public static byte[] digest(HashAlgo algo, byte[] data) {
        return algo.newDigest().digest(data);
    }

    private MessageDigest messageDigest(HashAlgo algo) {
        MessageDigest md = digests.get(algo);
        if (md == null) {
            md = algo.newDigest();
            digests.put(algo, md);
        }
        return md;
    }
}
