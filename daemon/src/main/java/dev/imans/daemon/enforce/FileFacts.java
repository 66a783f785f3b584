package dev.imans.daemon.enforce;

/**
 * What the policy can test about a file without the opener: its filesystem (magic and type name) and
 * its owner and group.
 */
public record FileFacts(long fsMagic, String fsName, long owner, long group) {}
