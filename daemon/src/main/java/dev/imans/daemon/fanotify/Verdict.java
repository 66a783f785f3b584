package dev.imans.daemon.fanotify;

import dev.imans.linux.Fanotify;

/** A decider's answer to one permission event. */
public enum Verdict {
    /** Let the open proceed. */
    ALLOW(Fanotify.FAN_ALLOW),
    /** Refuse it: the opener gets EPERM (a FAN_CLASS_CONTENT group cannot choose another errno). */
    DENY(Fanotify.FAN_DENY),
    /** No quick answer: hand the event to a decision worker ({@link Decider#decideDeferred}). */
    DEFER(0);

    private final int response;

    Verdict(int response) {
        this.response = response;
    }

    /** The {@code fanotify_response.response} value; DEFER has none. */
    int response() {
        if (this == DEFER) {
            throw new IllegalStateException("DEFER is not an answer");
        }
        return response;
    }
}
