package dev.imans.cli.oci;

/** The hook cannot do its job for a reason the operator can act on; the message says which. */
public final class HookException extends Exception {
    public HookException(String message) {
        super(message);
    }
}
