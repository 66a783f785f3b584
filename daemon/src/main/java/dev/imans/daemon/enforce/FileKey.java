package dev.imans.daemon.enforce;

/** A file's identity: device and inode ({@code st_dev}, {@code st_ino}). */
public record FileKey(long dev, long ino) {}
