package dev.imans.daemon.enforce;

/** Where the decider gets the policies in force: built again on every policy or registration change. */
@FunctionalInterface
public interface PolicySource {
    Policies current();
}
