package dev.imans.daemon.control;

import dev.imans.daemon.ns.Caller;
import dev.imans.ns.NamespaceId;
import dev.imans.ns.PolicySession;
import dev.imans.ns.PolicyTarget;

/** What one open file handle of the control filesystem holds. */
sealed interface OpenFile {
    /** A file opened for reading: its content as of the open. */
    record Snapshot(byte[] content) implements OpenFile {}

    /** A policy file opened for writing: one write session. */
    record PolicyWriter(PolicyTarget target, PolicySession session, Caller writer) implements OpenFile {}

    /** A namespace's {@code keys} file opened for writing: the certificate bytes not yet complete. */
    record KeysWriter(NamespaceId ns, KeyUpload upload, Caller writer) implements OpenFile {}

    /** {@code namespaces} opened for writing. */
    record NamespacesWriter(Caller writer) implements OpenFile {}
}
