package dev.imans.crypto;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/** RFC 7468 text blocks ({@code -----BEGIN LABEL-----}), as OpenSSL writes keys and certificates. */
public final class Pem {
    /** One block: its label and decoded bytes; {@code encrypted} when it carries OpenSSL's legacy Proc-Type header. */
    public record Block(String label, byte[] der, boolean encrypted) {}

    private Pem() {}

    /** True if {@code bytes} look like PEM text rather than DER. */
    public static boolean isPem(byte[] bytes) {
        return new String(bytes, StandardCharsets.ISO_8859_1).contains("-----BEGIN ");
    }

    /** Every block in the text, in order; text outside blocks is ignored, as OpenSSL does. */
    public static List<Block> parse(byte[] text) {
        String s = new String(text, StandardCharsets.ISO_8859_1);
        List<Block> out = new ArrayList<>();
        int p = 0;
        while (true) {
            int b = s.indexOf("-----BEGIN ", p);
            if (b < 0) {
                return out;
            }
            int labelEnd = s.indexOf("-----", b + 11);
            if (labelEnd < 0) {
                throw new IllegalArgumentException("PEM header without closing dashes");
            }
            String label = s.substring(b + 11, labelEnd);
            String endLine = "-----END " + label + "-----";
            int e = s.indexOf(endLine, labelEnd);
            if (e < 0) {
                throw new IllegalArgumentException("PEM block \"" + label + "\" has no END line");
            }
            String body = s.substring(labelEnd + 5, e);
            boolean encrypted = false;
            StringBuilder b64 = new StringBuilder();
            for (String line : body.split("\r?\n")) {
                if (line.contains(":")) {
                    encrypted |= line.startsWith("Proc-Type:") && line.contains("ENCRYPTED");
                    continue;
                }
                b64.append(line.strip());
            }
            byte[] der;
            try {
                der = Base64.getDecoder().decode(b64.toString());
            } catch (IllegalArgumentException ex) {
                throw new IllegalArgumentException("PEM block \"" + label + "\" is not valid base64", ex);
            }
            out.add(new Block(label, der, encrypted));
            p = e + endLine.length();
        }
    }
}
