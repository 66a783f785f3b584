package dev.imans.audit;

import java.util.Objects;

/**
 * A file's {@code dev=} (the superblock's {@code s_id}, e.g. {@code tmpfs}, {@code sda1}, an
 * untrusted string) and {@code ino=%lu}.
 */
public record InodeRef(UntrustedString dev, long ino) {
    public InodeRef {
        Objects.requireNonNull(dev, "dev");
    }

    public static InodeRef of(String dev, long ino) {
        return new InodeRef(UntrustedString.of(dev), ino);
    }

    /** {@code ino} as the kernel's unsigned {@code %lu}. */
    public String inoText() {
        return Long.toUnsignedString(ino);
    }
}
