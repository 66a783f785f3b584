package dev.imans.daemon.fanotify;

import java.util.concurrent.atomic.AtomicInteger;

/** A listener that counts {@link ModificationListener#lostTrack} calls (the caches emptied) and nothing else. */
final class LostTrackCounter implements ModificationListener {
    private final AtomicInteger lost = new AtomicInteger();

    @Override
    public void modified(long dev, long ino, long mask) {}

    @Override
    public void lostTrack() {
        lost.incrementAndGet();
    }

    int count() {
        return lost.get();
    }
}
