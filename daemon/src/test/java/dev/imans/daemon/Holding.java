package dev.imans.daemon;

import java.util.concurrent.CountDownLatch;

/** Hooks that hold a daemon thread at a known point, so a test can act while it waits there. */
public final class Holding {
    private Holding() {}

    /** A hook that says it was reached ({@code reached}) and waits there until {@code release} opens. */
    public static Runnable holding(CountDownLatch reached, CountDownLatch release) {
        return () -> {
            reached.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
    }
}
