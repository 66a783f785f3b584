package dev.imans.daemon.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.imans.daemon.Log;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * {@code --metrics-listen}: serves {@code GET /metrics} over plain HTTP with the JDK's server, on one
 * platform thread of its own (a slow or hostile client can delay only other scrapes, never a decision).
 * Read-only; anything else gets 404 or 405.
 */
public final class MetricsServer implements AutoCloseable {
    private final HttpServer server;
    private final ExecutorService executor;

    private MetricsServer(HttpServer server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    /** Binds {@code address} and starts serving {@code render}'s text; fails if the address is taken. */
    public static MetricsServer start(InetSocketAddress address, Supplier<String> render) throws IOException {
        HttpServer server;
        try {
            server = HttpServer.create(address, 8);
        } catch (IOException e) {
            throw new IOException("--metrics-listen " + show(address) + ": " + e.getMessage(), e);
        }
        ExecutorService executor = Executors.newSingleThreadExecutor(
                r -> Thread.ofPlatform().name("imans-metrics-http").daemon().unstarted(r));
        server.setExecutor(executor);
        server.createContext("/", exchange -> handle(exchange, render));
        server.start();
        Log.info("metrics at http://" + show(server.getAddress()) + "/metrics");
        return new MetricsServer(server, executor);
    }

    private static void handle(HttpExchange exchange, Supplier<String> render) throws IOException {
        try (exchange) {
            exchange.getRequestBody().readAllBytes();
            if (!exchange.getRequestURI().getPath().equals("/metrics")) {
                reply(exchange, 404, "text/plain; charset=utf-8", "not found: try /metrics\n", true);
                return;
            }
            String method = exchange.getRequestMethod();
            if (!method.equals("GET") && !method.equals("HEAD")) {
                exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                reply(exchange, 405, "text/plain; charset=utf-8", "method not allowed\n", true);
                return;
            }
            reply(exchange, 200, PrometheusText.CONTENT_TYPE, render.get(), method.equals("GET"));
            if (Log.enabled(Log.Level.DEBUG)) {
                Log.debug("metrics scraped by " + exchange.getRemoteAddress());
            }
        } catch (RuntimeException e) {
            Log.warn("metrics request failed: " + e);
        }
    }

    private static void reply(HttpExchange exchange, int status, String type, String body, boolean withBody)
            throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", type);
        exchange.sendResponseHeaders(status, withBody ? bytes.length : -1);
        if (withBody) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    /** The address bound (with the port the kernel chose when asked for port 0). */
    public InetSocketAddress address() {
        return server.getAddress();
    }

    /**
     * {@code --metrics-listen}'s argument: {@code PORT} (on 127.0.0.1: metrics name namespaces and
     * counts that need not leave the host unless asked), {@code HOST:PORT}, or {@code [IPV6]:PORT}.
     */
    public static InetSocketAddress parseAddress(String spec) {
        String host = "127.0.0.1";
        String port = spec;
        int colon = spec.lastIndexOf(':');
        if (spec.startsWith("[")) {
            int close = spec.indexOf(']');
            if (close < 0 || colon != close + 1) {
                throw new IllegalArgumentException("--metrics-listen: expected [ADDRESS]:PORT, got '" + spec + "'");
            }
            host = spec.substring(1, close);
            port = spec.substring(colon + 1);
        } else if (colon >= 0) {
            host = spec.substring(0, colon);
            port = spec.substring(colon + 1);
            if (host.isEmpty() || host.contains(":")) {
                throw new IllegalArgumentException("--metrics-listen: expected PORT, HOST:PORT or [ADDRESS]:PORT, got '"
                        + spec + "'");
            }
        }
        int p;
        try {
            p = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--metrics-listen: not a port: '" + port + "'");
        }
        if (p < 0 || p > 65535) {
            throw new IllegalArgumentException("--metrics-listen: port out of range: " + p);
        }
        try {
            return new InetSocketAddress(InetAddress.getByName(host), p);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("--metrics-listen: unknown host '" + host + "'");
        }
    }

    private static String show(InetSocketAddress a) {
        String host = a.getAddress().getHostAddress();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
