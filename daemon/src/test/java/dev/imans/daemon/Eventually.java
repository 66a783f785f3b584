package dev.imans.daemon;

import java.util.concurrent.TimeUnit;

/** Retries an assertion until it holds or 15 s have passed, for state the daemon reaches on its own threads. */
public final class Eventually {
    private Eventually() {}

    /** An assertion that may throw. */
    public interface Check {
        void run() throws Exception;
    }

    public static void eventually(Check check) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (true) {
            try {
                check.run();
                return;
            } catch (AssertionError e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(20);
            }
        }
    }
}
