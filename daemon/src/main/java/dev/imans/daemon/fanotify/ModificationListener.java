package dev.imans.daemon.fanotify;

/**
 * Told when a file on a marked filesystem was written (FAN_MODIFY) or closed after writing
 * (FAN_CLOSE_WRITE, which also covers writes through a shared mapping once the last reference goes),
 * after the engine dropped the file's ignore mark. Caches keyed by (dev, ino) drop the entry here.
 * Runs on the modification watcher thread: keep it short.
 */
@FunctionalInterface
public interface ModificationListener {
    ModificationListener NONE = (dev, ino, mask) -> { };

    void modified(long dev, long ino, long mask);

    /**
     * An open of an ignore-marked file that the permission group was not asked about left the file open
     * for writing (by the opener or another process). {@code fd} is the notification's descriptor (open
     * until this returns), {@code pid} the opener (0 when not visible). Called after {@link #modified}.
     */
    default void openedWithWriter(long dev, long ino, int fd, int pid) {}

    /** Whether {@link #opened} is wanted: it costs the watcher an fstat per open of an ignore-marked file. */
    default boolean wantsOpens() {
        return false;
    }

    /** An open of an ignore-marked file that left it without writers; {@code pid} is the opener. */
    default void opened(long dev, long ino, int pid) {}

    /**
     * Modifications may have gone unreported (the watcher stopped, or is being restarted): forget
     * everything learnt from files that could have changed meanwhile.
     */
    default void lostTrack() {}
}
