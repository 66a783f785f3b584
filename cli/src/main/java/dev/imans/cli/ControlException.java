package dev.imans.cli;

/** A control command that failed for a reason the user can act on; the message says which. */
final class ControlException extends Exception {
    ControlException(String message) {
        super(message);
    }
}
