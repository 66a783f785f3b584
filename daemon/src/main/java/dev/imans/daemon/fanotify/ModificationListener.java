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
     * Modifications may have gone unreported (the watcher stopped, or is being restarted): forget
     * everything learnt from files that could have changed meanwhile.
     */
    default void lostTrack() {}
}
