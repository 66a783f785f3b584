package dev.imans.daemon.enforce;

import java.util.List;

/** The registered namespaces, each with one live member process through which its mounts are read. */
@FunctionalInterface
public interface NamespaceDirectory {
    /** One registered namespace and a process in it. */
    record Member(long nsInode, int pid) {}

    /** Registered namespaces that have a live member now. */
    List<Member> members();

    NamespaceDirectory NONE = List::of;
}
