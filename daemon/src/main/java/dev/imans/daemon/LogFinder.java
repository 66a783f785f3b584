package dev.imans.daemon;

import java.text.MessageFormat;
import java.util.ResourceBundle;

/**
 * Sends {@link System.Logger} records (the fanotify engine's rate-limited queue, the JDK's own loggers)
 * to {@link Log}, so that one {@code --log-level} and one line format (timestamped, or journal
 * priorities) apply to everything the daemon writes. Found by the JDK through
 * {@code META-INF/services/java.lang.System$LoggerFinder}. TRACE records are dropped: only the JDK writes
 * them (the HTTP server traces every exchange).
 */
public final class LogFinder extends System.LoggerFinder {
    @Override
    public System.Logger getLogger(String name, Module module) {
        return new Bridge(name);
    }

    private record Bridge(String name) implements System.Logger {
        @Override
        public String getName() {
            return name;
        }

        @Override
        public boolean isLoggable(Level level) {
            Log.Level l = map(level);
            return l != null && Log.enabled(l);
        }

        @Override
        public void log(Level level, ResourceBundle bundle, String msg, Throwable thrown) {
            Log.Level l = map(level);
            if (l == null || !Log.enabled(l)) {
                return;
            }
            String text = msg == null ? "" : msg;
            if (thrown != null) {
                // Callers often put the exception in the message already.
                if (!text.contains(thrown.toString())) {
                    text = text + ": " + thrown;
                }
                if (Log.enabled(Log.Level.DEBUG)) {
                    java.io.StringWriter w = new java.io.StringWriter();
                    thrown.printStackTrace(new java.io.PrintWriter(w));
                    text = text + "\n" + w.toString().stripTrailing();
                }
            }
            Log.log(l, text);
        }

        @Override
        public void log(Level level, ResourceBundle bundle, String format, Object... params) {
            Log.Level l = map(level);
            if (l == null || !Log.enabled(l)) {
                return;
            }
            Log.log(l, params == null || params.length == 0 ? String.valueOf(format)
                    : MessageFormat.format(String.valueOf(format), params));
        }

        private static Log.Level map(Level level) {
            return switch (level) {
                case ALL, TRACE, OFF -> null;
                case DEBUG -> Log.Level.DEBUG;
                case INFO -> Log.Level.INFO;
                case WARNING -> Log.Level.WARN;
                case ERROR -> Log.Level.ERROR;
            };
        }
    }
}
