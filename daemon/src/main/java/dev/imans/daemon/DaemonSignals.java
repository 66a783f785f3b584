package dev.imans.daemon;

import dev.imans.linux.LinuxException;
import dev.imans.linux.Signals;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import sun.misc.Signal;

/**
 * What the {@code imans daemon} process does with each signal whose default action would end it
 * (signal(7)), so that no signal ends enforcement without a log line:
 *
 * <ul>
 *   <li>HUP reopens the audit log (log rotation) and reads the host's keys again; USR1 writes a state report to the daemon log;
 *       enforcement continues.
 *   <li>INT, TERM, and TRAP, ABRT, STKFLT, XCPU, PWR, SYS (a debugger, an abort, a CPU limit, a power
 *       failure, a seccomp trap: reasons to stop) are logged, then the daemon stops cleanly (every
 *       waiting open answered, the control filesystem unmounted) with status 128 + the signal number.
 *   <li>ALRM, VTALRM, PROF (timers, never a request to stop) and USR2, XFSZ where the JVM left them
 *       alone are logged and ignored; PIPE is ignored (writes then fail with EPIPE).
 *   <li>IO is ignored without a log line: a broken read lease of the modification watcher's probe
 *       sends it in normal operation. The real-time signals SIGRTMIN..SIGRTMAX are ignored too: the JVM
 *       cannot catch them, so they can be neither logged nor handled.
 *   <li>A HUP inherited as ignored ({@code nohup}) is handled all the same (it stops nothing); an INT or
 *       TERM inherited as ignored (a background job of a shell without job control) stays ignored,
 *       and the log says so when the daemon is up.
 *   <li>QUIT, ILL, FPE, SEGV, BUS and (in HotSpot) USR2, PIPE, XFSZ belong to the JVM (thread dumps,
 *       implicit null checks, suspend/resume); a signal some handler already claimed is never taken
 *       over, so neither the JVM nor an agent is broken.
 * </ul>
 *
 * <p>Catching uses {@code sun.misc.Signal} (module jdk.unsupported): the JVM's own native handler only
 * posts the signal, and the Java handler runs later on the JVM's "Signal Dispatcher" thread, where it
 * may log, take locks and call {@link System#exit}. An FFM upcall installed with sigaction(2) would
 * run Java code inside the signal handler, on whatever thread was interrupted (possibly holding the
 * very lock the handler needs), which is not async-signal-safe. FFM is used only to read dispositions
 * and to set SIG_IGN.
 */
public final class DaemonSignals {
    private enum Action { REOPEN, REPORT, STOP, LOG_AND_IGNORE, IGNORE }

    private record Handled(String name, Action action) {}

    private static final List<Handled> HANDLED = List.of(
            new Handled("HUP", Action.REOPEN),
            new Handled("USR1", Action.REPORT),
            new Handled("INT", Action.STOP),
            new Handled("TERM", Action.STOP),
            new Handled("TRAP", Action.STOP),
            new Handled("ABRT", Action.STOP),
            new Handled("STKFLT", Action.STOP),
            new Handled("XCPU", Action.STOP),
            new Handled("PWR", Action.STOP),
            new Handled("SYS", Action.STOP),
            new Handled("ALRM", Action.LOG_AND_IGNORE),
            new Handled("VTALRM", Action.LOG_AND_IGNORE),
            new Handled("PROF", Action.LOG_AND_IGNORE),
            new Handled("USR2", Action.LOG_AND_IGNORE),
            new Handled("XFSZ", Action.LOG_AND_IGNORE),
            new Handled("PIPE", Action.IGNORE));

    /** The JVM's shutdown handlers, which these replace to add the log line. */
    private static final List<String> JVM_SHUTDOWN = List.of("HUP", "INT", "TERM");

    private Daemon daemon;
    private Signal stopWhileStarting;
    private final List<String> leftAlone = new ArrayList<>();
    /** Stop signals the process inherited as ignored, and left so. */
    private final List<String> inheritedIgnored = new ArrayList<>();
    /** Whether SIGHUP was inherited as ignored and taken over. */
    private boolean hupTakenOver;

    private DaemonSignals() {}

    /**
     * Installs the handlers before the daemon starts, so that no signal can end a half-started daemon
     * (leaving its control filesystem mounted): until {@link #serve} a stop is only remembered, and HUP
     * and USR1 are logged and ignored.
     */
    public static DaemonSignals install() {
        DaemonSignals signals = new DaemonSignals();
        signals.installHandlers();
        return signals;
    }

    /**
     * Hands the started daemon, the only one of this process, to the handlers. A stop exits the JVM:
     * the caller must have registered a shutdown hook that closes the daemon first.
     *
     * @return the number of a stop signal that arrived while it was starting: the caller closes the
     *     daemon and exits with 128 + that number
     */
    public synchronized java.util.OptionalInt serve(Daemon started) {
        this.daemon = started;
        if (!leftAlone.isEmpty()) {
            Log.info("signals left to the JVM: " + String.join(" ", leftAlone));
        }
        if (hupTakenOver) {
            Log.info("SIGHUP was inherited as ignored (nohup?): handled all the same, it reopens the audit log"
                    + " and stops nothing");
        }
        if (!inheritedIgnored.isEmpty()) {
            Log.warn("inherited as ignored, so left ignored: SIG" + String.join(" SIG", inheritedIgnored)
                    + " (they do not stop the daemon; SIGTERM does where it is not among them)");
        }
        return stopWhileStarting == null ? java.util.OptionalInt.empty()
                : java.util.OptionalInt.of(stopWhileStarting.getNumber());
    }

    private void installHandlers() {
        for (Handled h : HANDLED) {
            Signal signal = new Signal(h.name());
            try {
                if (JVM_SHUTDOWN.contains(h.name()) && Signals.isIgnored(signal.getNumber())) {
                    // The JVM registers no handler for an ignored HUP, INT or TERM, and says nothing.
                    // nohup ignores HUP so that a hangup does not end the program: here it ends
                    // nothing, and log rotation relies on it. A stop signal ignored by whoever started
                    // the daemon stays ignored, as in any program, but it is said.
                    if (h.action() != Action.REOPEN) {
                        inheritedIgnored.add(h.name());
                        continue;
                    }
                    // A HUP in the microseconds between these two calls would end the process, before
                    // anything is mounted (the handlers come before the daemon starts).
                    Signals.setDefault(signal.getNumber());
                    hupTakenOver = true;
                } else if (!JVM_SHUTDOWN.contains(h.name()) && !Signals.isDefault(signal.getNumber())) {
                    leftAlone.add(h.name());
                    continue;
                }
            } catch (LinuxException e) {
                Log.warn("cannot read the disposition of SIG" + h.name() + ": " + e.getMessage());
                continue;
            }
            Signal.handle(signal, s -> handle(h.action(), s));
        }
        ignore(Signals.SIGIO);
        int[] rt = Signals.realtimeRange();
        for (int n = rt[0]; n <= rt[1]; n++) {
            ignore(n);
        }
    }

    private static void ignore(int signo) {
        try {
            if (Signals.isDefault(signo)) {
                Signals.ignore(signo);
            }
        } catch (LinuxException e) {
            Log.warn("cannot ignore signal " + signo + ": " + e.getMessage());
        }
    }

    private void handle(Action action, Signal s) {
        String name = "SIG" + s.getName().toUpperCase(Locale.ROOT);
        Daemon daemon;
        synchronized (this) {
            daemon = this.daemon;
            if (daemon == null && (action == Action.REOPEN || action == Action.REPORT)) {
                Log.warn("received " + name + " while starting: ignored");
                return;
            }
            if (daemon == null && action == Action.STOP) {
                Log.warn("received " + name + " while starting: stopping once started");
                stopWhileStarting = s;
                return;
            }
        }
        switch (action) {
            case REOPEN -> {
                Log.info("received " + name + ": reopening the audit log and reading the host's keys again");
                daemon.reopenLogs();
                daemon.reloadHostKeys();
            }
            case REPORT -> {
                Log.info("received " + name + ": state report follows");
                daemon.report().forEach(line -> Log.info("report: " + line));
            }
            case STOP -> {
                Log.warn("received " + name + ": stopping (waiting opens are answered, then the control"
                        + " filesystem is unmounted; opens are no longer checked)");
                // Runs the shutdown hooks, which close the daemon; the status is the shell's 128 + n.
                System.exit(128 + s.getNumber());
            }
            case LOG_AND_IGNORE -> Log.warn("received " + name + ": ignored, enforcement continues");
            case IGNORE -> { }
        }
    }
}
