package dev.imans.daemon.health;

import java.time.Instant;

/**
 * One active degraded state: what, about which subject (a filesystem path, or empty when there is
 * only one of its kind), since when, and the latest cause.
 */
public record Degradation(Condition condition, String subject, Instant since, String cause) {
    /** One line of {@code .imans/health}: {@code <condition> [<subject>] since <instant>: <cause>}. */
    public String line() {
        return condition.label() + (subject.isEmpty() ? "" : " " + oneLine(subject)) + " since " + since + ": "
                + oneLine(cause);
    }

    private static String oneLine(String s) {
        return s.replace('\n', ' ').replace('\r', ' ');
    }
}
