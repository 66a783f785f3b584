package dev.imans.daemon;

import java.io.PrintStream;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;

/**
 * The daemon's log: one line per event on standard error, with a local timestamp, so it reads the
 * same under a terminal, a supervisor or a test harness.
 */
public final class Log {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS");
    private static volatile PrintStream out = System.err;

    private Log() {}

    /** Sends the log to {@code to} from now on (tests read it); returns where it went before. */
    public static PrintStream redirect(PrintStream to) {
        PrintStream before = out;
        out = to;
        return before;
    }

    public static void info(String message) {
        write("info", message);
    }

    public static void warn(String message) {
        write("warn", message);
    }

    public static void error(String message) {
        write("error", message);
    }

    private static void write(String level, String message) {
        PrintStream o = out;
        o.println(LocalDateTime.now().format(TIME) + " imans[" + ProcessHandle.current().pid() + "] "
                + level + ": " + message);
        o.flush();
    }
}
