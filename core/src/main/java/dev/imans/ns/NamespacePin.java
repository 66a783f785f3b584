package dev.imans.ns;

/**
 * Something that keeps a registered namespace's identity from being reused while it is registered
 * (in the daemon: an open nsfs descriptor). The registry releases it exactly once, when the
 * namespace is unregistered.
 */
@FunctionalInterface
public interface NamespacePin {
    /** Lets the namespace go; must not throw. */
    void release();
}
