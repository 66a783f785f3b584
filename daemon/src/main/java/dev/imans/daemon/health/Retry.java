package dev.imans.daemon.health;

/** An attempt to clear a degraded state; returning normally means the cause is gone. */
@FunctionalInterface
public interface Retry {
    void attempt() throws Exception;
}
