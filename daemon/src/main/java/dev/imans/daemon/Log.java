package dev.imans.daemon;

import dev.imans.linux.FileStat;
import dev.imans.linux.LinuxException;
import dev.imans.linux.Stat;
import java.io.PrintStream;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The daemon's log: one line per event on standard error. Lines below the threshold
 * ({@code --log-level}) are dropped. On a terminal, a supervisor or a test harness each line carries a
 * local timestamp; when standard error is the systemd journal ({@link #journalStream}) it carries an
 * sd-daemon priority prefix ({@code <3>} ... {@code <7>}, sd-daemon(3)) instead, as the journal adds
 * its own timestamps and reads the prefix as the record's priority.
 *
 * <p>Never called between reading a fanotify event and answering it: what happens once per event goes
 * through the engine's own rate-limited queue, which ends up here on its own thread.
 */
public final class Log {
    /** The levels of {@code --log-level}, most severe first, with their syslog priorities. */
    public enum Level {
        ERROR(3), WARN(4), INFO(6), DEBUG(7);

        private final int priority;

        Level(int priority) {
            this.priority = priority;
        }

        /** The syslog priority (LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG). */
        public int priority() {
            return priority;
        }

        /** The name {@code --log-level} takes and the log prints. */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static Optional<Level> byName(String name) {
            for (Level l : values()) {
                if (l.label().equals(name)) {
                    return Optional.of(l);
                }
            }
            return Optional.empty();
        }
    }

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS");
    private static volatile PrintStream out = System.err;
    private static volatile Level threshold = Level.INFO;
    private static volatile boolean journal;
    /** A prefix for the lines of this thread and of those it starts, whose info lines are debug lines. */
    private static final InheritableThreadLocal<String> ASIDE = new InheritableThreadLocal<>();

    private Log() {}

    /**
     * From now on this thread, and every thread it starts, logs its lines behind {@code prefix}, and its
     * info lines as debug lines: for work of the daemon's own (its start's rehearsal) whose routine
     * lines ("enforcing on tmpfs /") would read as if they were about the host.
     */
    public static void aside(String prefix) {
        ASIDE.set(prefix);
    }

    /** Sends the log to {@code to} from now on (tests read it); returns where it went before. */
    public static PrintStream redirect(PrintStream to) {
        PrintStream before = out;
        out = to;
        return before;
    }

    /** Logs {@code level} and more severe from now on, as journal records ({@code <N>} prefixes) or timestamped lines. */
    public static void configure(Level level, boolean journalFormat) {
        threshold = level;
        journal = journalFormat;
    }

    public static Level threshold() {
        return threshold;
    }

    public static boolean journalFormat() {
        return journal;
    }

    public static boolean enabled(Level level) {
        return level.ordinal() <= threshold.ordinal();
    }

    public static void debug(String message) {
        log(Level.DEBUG, message);
    }

    public static void info(String message) {
        log(Level.INFO, message);
    }

    public static void warn(String message) {
        log(Level.WARN, message);
    }

    public static void error(String message) {
        log(Level.ERROR, message);
    }

    public static void log(Level level, String message) {
        String aside = ASIDE.get();
        if (aside != null) {
            level = level == Level.INFO ? Level.DEBUG : level;
            message = aside + message;
        }
        if (!enabled(level)) {
            return;
        }
        PrintStream o = out;
        o.println(format(level, message, journal));
        o.flush();
    }

    /**
     * One record: {@code <6>message} for the journal (a message of several lines gets the prefix on each,
     * so no line is logged at the journal's default priority); otherwise
     * {@code yyyy-MM-dd HH:mm:ss.SSS imans[pid] level: message}.
     */
    static String format(Level level, String message, boolean journalFormat) {
        if (journalFormat) {
            String prefix = "<" + level.priority() + ">";
            return prefix + message.replace("\n", "\n" + prefix);
        }
        return LocalDateTime.now().format(TIME) + " imans[" + ProcessHandle.current().pid() + "] " + level.label()
                + ": " + message;
    }

    /**
     * Whether standard error is the journal's stream: {@code JOURNAL_STREAM} (set by systemd for a
     * service whose output goes to the journal, systemd.exec(5)) names the device and inode of that
     * stream, and they are those of file descriptor 2. A child that inherited the variable but writes to
     * something else (a redirected file) does not match.
     */
    public static boolean journalStream(Map<String, String> env) {
        String js = env.get("JOURNAL_STREAM");
        if (js == null) {
            return false;
        }
        int colon = js.indexOf(':');
        if (colon <= 0) {
            return false;
        }
        try {
            long dev = Long.parseUnsignedLong(js.substring(0, colon));
            long ino = Long.parseUnsignedLong(js.substring(colon + 1));
            FileStat st = Stat.fstat(2);
            return st.ino() == ino && makedev(st.devMajor(), st.devMinor()) == dev;
        } catch (NumberFormatException | LinuxException e) {
            return false;
        }
    }

    /** glibc's {@code makedev}: the {@code dev_t} that systemd prints in {@code JOURNAL_STREAM}. */
    static long makedev(int major, int minor) {
        long ma = Integer.toUnsignedLong(major);
        long mi = Integer.toUnsignedLong(minor);
        return ((ma & 0xfffff000L) << 32) | ((ma & 0xfffL) << 8) | ((mi & 0xffffff00L) << 12) | (mi & 0xffL);
    }
}
