package dev.imans.daemon.metrics;

import java.math.BigDecimal;

/**
 * Writes the Prometheus text exposition format (version 0.0.4): per metric family one {@code # HELP}
 * and one {@code # TYPE} line, then its samples, {@code name{label="value",...} value}, one per line.
 */
final class PrometheusText {
    /** The {@code Content-Type} of this format. */
    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final StringBuilder out = new StringBuilder(8192);

    /** Starts a family: {@code type} is counter, gauge or histogram. */
    PrometheusText family(String name, String type, String help) {
        out.append("# HELP ").append(name).append(' ').append(escapeHelp(help)).append('\n');
        out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
        return this;
    }

    PrometheusText sample(String name, long value, String... labels) {
        head(name, labels).append(value).append('\n');
        return this;
    }

    PrometheusText sample(String name, double value, String... labels) {
        head(name, labels).append(number(value)).append('\n');
        return this;
    }

    /** A one-sample family. */
    PrometheusText single(String name, String type, String help, long value) {
        return family(name, type, help).sample(name, value);
    }

    private StringBuilder head(String name, String... labels) {
        if (labels.length % 2 != 0) {
            throw new IllegalArgumentException("labels come in name, value pairs");
        }
        out.append(name);
        if (labels.length > 0) {
            out.append('{');
            for (int i = 0; i < labels.length; i += 2) {
                if (i > 0) {
                    out.append(',');
                }
                out.append(labels[i]).append("=\"").append(escapeLabel(labels[i + 1])).append('"');
            }
            out.append('}');
        }
        return out.append(' ');
    }

    /** A plain decimal (0.00001, not 1.0E-5), or +Inf/-Inf/NaN as the format spells them. */
    static String number(double v) {
        if (Double.isNaN(v)) {
            return "NaN";
        }
        if (Double.isInfinite(v)) {
            return v > 0 ? "+Inf" : "-Inf";
        }
        return BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
    }

    private static String escapeLabel(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }

    private static String escapeHelp(String s) {
        return s.replace("\\", "\\\\").replace("\n", "\\n");
    }

    @Override
    public String toString() {
        return out.toString();
    }
}
