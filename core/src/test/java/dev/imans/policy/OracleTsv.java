package dev.imans.policy;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Reads the oracle's TSV captures: one header line, tab-separated fields, {@code \n \t \r} escaped. */
final class OracleTsv {
    private OracleTsv() {}

    static List<String[]> rows(String resource) {
        try (InputStream in = OracleTsv.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource " + resource);
            }
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            List<String[]> rows = new ArrayList<>();
            String[] lines = text.split("\n", -1);
            for (int i = 1; i < lines.length; i++) {
                if (!lines[i].isEmpty()) {
                    rows.add(lines[i].split("\t", -1));
                }
            }
            return rows;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String unescape(String field) {
        if (field.equals("<empty>")) {
            return "";
        }
        return field.replace("\\n", "\n").replace("\\t", "\t").replace("\\r", "\r");
    }
}
