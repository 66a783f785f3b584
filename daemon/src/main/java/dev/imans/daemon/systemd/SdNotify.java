package dev.imans.daemon.systemd;

import dev.imans.daemon.Log;
import dev.imans.linux.LinuxException;
import dev.imans.linux.UnixDatagram;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The service manager's notification protocol (sd_notify(3)) for a {@code Type=notify} unit:
 * {@code READY=1} once the daemon enforces and serves its control filesystem, {@code STATUS=} lines
 * while it runs, {@code STOPPING=1} when it begins to stop, and {@code WATCHDOG=1} keep-alives when the
 * unit sets {@code WatchdogSec=}. Messages are datagrams to {@code $NOTIFY_SOCKET}; without that variable
 * every call does nothing.
 *
 * <p>The keep-alive is sent only while {@code alive} holds: a daemon whose fanotify reader stopped
 * (the kernel then allows every open unchecked) stops pinging, so systemd kills and restarts it instead
 * of leaving a service that looks up but enforces nothing.
 */
public final class SdNotify implements AutoCloseable {
    /** How often the status line is refreshed when there is no watchdog to follow. */
    static final Duration STATUS_PERIOD = Duration.ofSeconds(5);

    private final String address;
    private final Optional<Duration> watchdog;
    private final UnixDatagram socket;
    private Thread ticker;
    private volatile boolean closed;
    private String lastStatus;

    private SdNotify(String address, Optional<Duration> watchdog, UnixDatagram socket) {
        this.address = address;
        this.watchdog = watchdog;
        this.socket = socket;
    }

    /**
     * The notifier the environment asks for: none without {@code NOTIFY_SOCKET}; a watchdog when
     * {@code WATCHDOG_USEC} is set and {@code WATCHDOG_PID} is unset or this process (sd_watchdog_enabled).
     */
    public static Optional<SdNotify> fromEnvironment(Map<String, String> env) {
        String address = env.get("NOTIFY_SOCKET");
        if (address == null || address.isEmpty()) {
            return Optional.empty();
        }
        if (!address.startsWith("/") && !address.startsWith("@")) {
            Log.warn("NOTIFY_SOCKET=" + address + " is neither a path nor an abstract socket: not notifying");
            return Optional.empty();
        }
        Optional<Duration> watchdog = watchdog(env);
        try {
            return Optional.of(new SdNotify(address, watchdog, UnixDatagram.open()));
        } catch (LinuxException e) {
            Log.warn("cannot open a socket for NOTIFY_SOCKET: " + e.getMessage());
            return Optional.empty();
        }
    }

    static Optional<Duration> watchdog(Map<String, String> env) {
        String usec = env.get("WATCHDOG_USEC");
        if (usec == null) {
            return Optional.empty();
        }
        String pid = env.get("WATCHDOG_PID");
        try {
            if (pid != null && Long.parseLong(pid) != ProcessHandle.current().pid()) {
                return Optional.empty();
            }
            long us = Long.parseLong(usec);
            return us > 0 ? Optional.of(Duration.ofNanos(us * 1000)) : Optional.empty();
        } catch (NumberFormatException e) {
            Log.warn("ignoring WATCHDOG_USEC=" + usec + " / WATCHDOG_PID=" + pid + ": not numbers");
            return Optional.empty();
        }
    }

    /** The keep-alive interval systemd asked for, if any. */
    public Optional<Duration> watchdogInterval() {
        return watchdog;
    }

    /**
     * Tells the manager the daemon is up ({@code READY=1} with {@code status}), then keeps the status
     * fresh from {@code status} and, with a watchdog, pings at half its interval while {@code alive}.
     */
    public synchronized void ready(Supplier<String> status, BooleanSupplier alive) {
        String now = status.get();
        lastStatus = now;
        send("READY=1\nSTATUS=" + now + "\nMAINPID=" + ProcessHandle.current().pid());
        Duration period = watchdog.map(w -> w.dividedBy(2)).filter(p -> p.compareTo(STATUS_PERIOD) < 0)
                .orElse(STATUS_PERIOD);
        ticker = Thread.ofPlatform().name("imans-sd-notify").daemon().start(() -> tick(period, status, alive));
    }

    /** {@code STOPPING=1}: the daemon is shutting down (enforcement ends with it). */
    public void stopping() {
        closed = true;
        Thread t;
        synchronized (this) {
            t = ticker;
        }
        if (t != null) {
            t.interrupt();
        }
        send("STOPPING=1\nSTATUS=stopping: opens are no longer checked");
    }

    private void tick(Duration period, Supplier<String> status, BooleanSupplier alive) {
        boolean warned = false;
        while (!closed) {
            try {
                Thread.sleep(period);
            } catch (InterruptedException e) {
                return;
            }
            if (closed) {
                return;
            }
            StringBuilder msg = new StringBuilder();
            String now = status.get();
            if (!now.equals(lastStatus)) {
                lastStatus = now;
                msg.append("STATUS=").append(now).append('\n');
            }
            if (watchdog.isPresent()) {
                if (alive.getAsBoolean()) {
                    msg.append("WATCHDOG=1\n");
                    warned = false;
                } else if (!warned) {
                    Log.error("enforcement is down: no more watchdog keep-alives (systemd will restart the daemon)");
                    warned = true;
                }
            }
            if (!msg.isEmpty()) {
                send(msg.substring(0, msg.length() - 1));
            }
        }
    }

    private void send(String message) {
        if (Log.enabled(Log.Level.DEBUG)) {
            Log.debug("sd_notify: " + message.replace('\n', ' '));
        }
        try {
            socket.send(address, message.getBytes(StandardCharsets.UTF_8));
        } catch (LinuxException e) {
            Log.warn("sd_notify to " + address + " failed: " + e.getMessage());
        }
    }

    @Override
    public void close() {
        closed = true;
        Thread t;
        synchronized (this) {
            t = ticker;
        }
        if (t != null) {
            t.interrupt();
            try {
                t.join(Duration.ofSeconds(1));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        socket.close();
    }
}
