package dev.imans.attest;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * One line of an ascii measurement list as Keylime's verifier reads it ({@code keylime/ima/ast.py},
 * class {@code Entry} and the modes {@code Ima}, {@code ImaNg}, {@code ImaSig}, {@code ImaBuf}).
 * Deliberately not imans's own ascii reader: Keylime rebuilds the template data from the printed
 * fields with its own rules, and those rules decide what it accepts. Where they differ from the
 * kernel (a one-digit PCR's leading space makes a line unparsable; a digest without {@code algo:}
 * in an ima-ng line is taken as sha1; a non-signature {@code sig} field counts as empty) this class
 * differs too.
 *
 * @param pcr          the first word, as text ({@code Entry.pcr})
 * @param templateHash the template digest as printed ({@code Entry.ima_template_hash})
 * @param mode         the template and its fields
 * @param templateData the bytes Keylime hashes ({@code Mode.bytes()})
 */
record KeylimeEntry(String pcr, byte[] templateHash, Mode mode, byte[] templateData) {
    /** The sha1/md5 sizes {@code Digest} tells a bare hex digest apart by. */
    private static final int SHA_DIGEST_LEN = 20;
    private static final int MD5_DIGEST_LEN = 16;
    /** {@code TCG_EVENT_NAME_LEN_MAX}: the legacy {@code n} field is this plus a NUL. */
    private static final int EVENT_NAME_LEN_MAX = 255;

    /** {@code ast.ParserError}: the line is not an entry Keylime can read. */
    static final class ParseException extends Exception {
        ParseException(String message) {
            super(message);
        }
    }

    /** {@code ast.Digest}: an algorithm name and the digest bytes. */
    record Digest(String algorithm, byte[] hash, boolean legacy) {
        /** {@code Digest.__init__}: {@code algo:hex}, or bare hex of a sha1 or md5 size. */
        static Digest parse(String text, boolean legacy) throws ParseException {
            String[] tokens = text.split(":", -1);
            if (tokens.length == 1) {
                byte[] h = hex(tokens[0], "Digest hash is not valid hex. Got: " + tokens[0]);
                if (h.length == SHA_DIGEST_LEN) {
                    return new Digest("sha1", h, legacy);
                }
                if (h.length == MD5_DIGEST_LEN) {
                    return new Digest("md5", h, legacy);
                }
                throw new ParseException("Cannot create Digest. No hash algorithm is provided and hash does not belong"
                        + " to a md5 or sha1 hash.");
            }
            if (tokens.length == 2) {
                return new Digest(tokens[0], hex(tokens[1], "Digest hash is not valid hex. Got: " + tokens[1]), legacy);
            }
            throw new ParseException("Cannot create Digest expected 1 or 2 tokens got: " + tokens.length + " for " + text);
        }

        /** {@code Digest.struct()}: the raw hash (legacy {@code d}), else {@code u32 len ‖ algo ‖ ':' ‖ NUL ‖ hash}. */
        void appendTo(ByteArrayOutputStream out) {
            if (legacy) {
                out.writeBytes(hash);
                return;
            }
            // struct.pack("<I{n}sBB...") with n = len(str): the name is cut or padded to its character count.
            int n = algorithm.codePointCount(0, algorithm.length());
            byte[] algo = Arrays.copyOf(algorithm.getBytes(StandardCharsets.UTF_8), n);
            u32(out, n + 2 + hash.length);
            out.writeBytes(algo);
            out.write(':');
            out.write(0);
            out.writeBytes(hash);
        }
    }

    /** A template Keylime knows ({@code Entry._mode_lookup}); {@code path} is the event name. */
    sealed interface Mode permits Ima, ImaNg, ImaSig, ImaBuf {
        Digest digest();

        String path();

        /** Keylime's class name, as its error summary counts failures by mode. */
        String className();
    }

    /** {@code ast.Ima}: {@code d} and a fixed-size {@code n}. */
    record Ima(Digest digest, String path) implements Mode {
        @Override
        public String className() {
            return "Ima";
        }
    }

    /** {@code ast.ImaNg}: {@code d-ng|n-ng}. */
    record ImaNg(Digest digest, String path) implements Mode {
        @Override
        public String className() {
            return "ImaNg";
        }
    }

    /** {@code ast.ImaSig}: {@code d-ng|n-ng|sig}, the signature empty when the field is not one. */
    record ImaSig(Digest digest, String path, Optional<byte[]> signature) implements Mode {
        @Override
        public String className() {
            return "ImaSig";
        }
    }

    /** {@code ast.ImaBuf}: {@code d-ng|n-ng|buf}. */
    record ImaBuf(Digest digest, String path, byte[] buffer) implements Mode {
        @Override
        public String className() {
            return "ImaBuf";
        }
    }

    /** {@code Entry.__init__} without the hashing: four words, a known template, its fields. */
    static KeylimeEntry parse(String line) throws ParseException {
        List<String> tokens = PyText.split(line, ' ', 3);
        if (tokens.size() != 4) {
            throw new ParseException("Cannot create Entry expected 4 tokens got: " + tokens.size() + ".");
        }
        byte[] templateHash = hex(tokens.get(1), "Cannot create Entry expected 4 tokens got: 4.");
        Mode mode = switch (tokens.get(2)) {
            case "ima" -> ima(tokens.get(3));
            case "ima-ng" -> imaNg(tokens.get(3));
            case "ima-sig" -> imaSig(tokens.get(3));
            case "ima-buf" -> imaBuf(tokens.get(3));
            default -> throw new ParseException("No parser for mode " + tokens.get(2) + " implemented.");
        };
        return new KeylimeEntry(tokens.get(0), templateHash, mode, bytes(mode));
    }

    private static Ima ima(String data) throws ParseException {
        List<String> t = PyText.split(data, ' ', 1);
        if (t.size() != 2) {
            throw new ParseException("Cannot create Ima expected 2 tokens.");
        }
        return new Ima(Digest.parse(t.get(0), true), t.get(1));
    }

    private static ImaNg imaNg(String data) throws ParseException {
        List<String> t = PyText.split(data, ' ', 1);
        if (t.size() != 2) {
            throw new ParseException("Cannot create ImaNg expected 2 tokens got: " + t.size() + ".");
        }
        return new ImaNg(Digest.parse(t.get(0), false), t.get(1));
    }

    private static ImaSig imaSig(String data) throws ParseException {
        List<String> t = PyText.split(data, ' ', 2);
        if (t.size() != 3) {
            throw new ParseException("Cannot create ImaSig expected 3 tokens got: " + t.size() + ".");
        }
        return new ImaSig(Digest.parse(t.get(0), false), t.get(1), signature(t.get(2)));
    }

    private static ImaBuf imaBuf(String data) throws ParseException {
        List<String> t = PyText.split(data, ' ', 2);
        if (t.size() != 3) {
            throw new ParseException("Cannot create ImaBuf expected 3 tokens got: " + t.size() + ".");
        }
        return new ImaBuf(Digest.parse(t.get(0), false), t.get(1),
                hex(t.get(2), "Provided data was not valid hex: " + t.get(2)));
    }

    /**
     * {@code ImaSig.create_signature}: the field counts only if it is hex with a whole signature
     * header ({@code >BBBIH}, 9 bytes, the last two the big-endian signature size) and exactly that
     * many bytes after it; anything else is taken as no signature.
     */
    private static Optional<byte[]> signature(String text) {
        Optional<byte[]> data = PyText.fromHex(text);
        if (data.isEmpty() || data.get().length < 9) {
            return Optional.empty();
        }
        byte[] d = data.get();
        int sigSize = (d[7] & 0xff) << 8 | d[8] & 0xff;
        return 9 + sigSize == d.length ? data : Optional.empty();
    }

    /** {@code Mode.bytes()}: the template data rebuilt from the printed fields. */
    private static byte[] bytes(Mode mode) throws ParseException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        mode.digest().appendTo(out);
        byte[] name = mode.path().getBytes(StandardCharsets.UTF_8);
        if (mode instanceof Ima) {
            if (name.length > EVENT_NAME_LEN_MAX) {
                // Keylime's struct.pack gets a negative count and raises struct.error, which no caller
                // catches: the whole check stops. Here the line is reported unparsable instead.
                throw new ParseException("ima template name longer than " + EVENT_NAME_LEN_MAX
                        + " bytes (Keylime stops with struct.error)");
            }
            out.writeBytes(name);
            out.writeBytes(new byte[EVENT_NAME_LEN_MAX + 1 - name.length]);
            return out.toByteArray();
        }
        u32(out, name.length + 1);
        out.writeBytes(name);
        out.write(0);
        switch (mode) {
            case ImaSig s -> {
                byte[] sig = s.signature().orElse(new byte[0]);
                u32(out, sig.length);
                out.writeBytes(sig);
            }
            case ImaBuf b -> {
                u32(out, b.buffer().length);
                out.writeBytes(b.buffer());
            }
            default -> { }
        }
        return out.toByteArray();
    }

    private static byte[] hex(String s, String message) throws ParseException {
        Optional<byte[]> b = PyText.fromHex(s);
        if (b.isEmpty()) {
            throw new ParseException(message);
        }
        return b.get();
    }

    private static void u32(ByteArrayOutputStream out, int v) {
        out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array());
    }
}
