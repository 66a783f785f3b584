package dev.imans.daemon.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** {@code --metrics-listen}'s address forms, and a real server on a loopback port. */
class MetricsServerTest {
    @Test
    void aPortAloneListensOnLoopbackOnly() {
        InetSocketAddress a = MetricsServer.parseAddress("9464");
        assertThat(a.getAddress().getHostAddress()).isEqualTo("127.0.0.1");
        assertThat(a.getPort()).isEqualTo(9464);
        assertThat(MetricsServer.parseAddress("0.0.0.0:80").getAddress().isAnyLocalAddress()).isTrue();
        assertThat(MetricsServer.parseAddress("[::1]:9464").getAddress().getHostAddress()).isEqualTo("0:0:0:0:0:0:0:1");
        for (String bad : new String[] {"", "x", "65536", "-1", "host:", ":80", "::1:80", "[::1]80", "127.0.0.1:x"}) {
            assertThatThrownBy(() -> MetricsServer.parseAddress(bad)).as(bad)
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--metrics-listen");
        }
    }

    @Test
    void servesTheTextAsScrapedAndNothingElse() throws Exception {
        AtomicLong n = new AtomicLong();
        try (MetricsServer server = MetricsServer.start(MetricsServer.parseAddress("0"),
                () -> new PrometheusText().single("imans_test_total", "counter", "Scrapes.", n.incrementAndGet())
                        .toString())) {
            URI uri = URI.create("http://127.0.0.1:" + server.address().getPort() + "/metrics");
            HttpClient http = HttpClient.newHttpClient();
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(Scrape.parse(r.body()).count("imans_test_total")).isEqualTo(1);
            r = http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(Scrape.parse(r.body()).count("imans_test_total")).isEqualTo(2);
            HttpResponse<String> head = http.send(HttpRequest.newBuilder(uri).method("HEAD",
                    HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(head.statusCode()).isEqualTo(200);
            assertThat(head.body()).isEmpty();
            assertThat(http.send(HttpRequest.newBuilder(uri.resolve("/metrics/x")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(404);
            assertThat(http.send(HttpRequest.newBuilder(uri).PUT(HttpRequest.BodyPublishers.ofString("1")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(405);
        }
    }

    @Test
    void numbersAndLabelsAreWrittenAsTheFormatWants() {
        assertThat(PrometheusText.number(0.00001)).isEqualTo("0.00001");
        assertThat(PrometheusText.number(5.0)).isEqualTo("5");
        assertThat(PrometheusText.number(Double.POSITIVE_INFINITY)).isEqualTo("+Inf");
        String text = new PrometheusText().family("imans_x", "gauge", "A \\ help\nline.")
                .sample("imans_x", 1, "scope", "a\"b\\c\nd").toString();
        assertThat(text).isEqualTo("# HELP imans_x A \\\\ help\\nline.\n# TYPE imans_x gauge\n"
                + "imans_x{scope=\"a\\\"b\\\\c\\nd\"} 1\n");
        assertThat(Scrape.parse(text).count("imans_x{scope=\"a\\\"b\\\\c\\nd\"}")).isEqualTo(1);
    }
}
