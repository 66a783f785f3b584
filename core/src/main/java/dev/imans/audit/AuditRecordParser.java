package dev.imans.audit;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Reads integrity audit record lines: ours and the kernel's, in either {@link AuditFormat}.
 * Accepted line shapes, all optional parts in brackets:
 *
 * <pre>
 * [[   2.385810] ][audit: ]type=1800 [msg=]audit(1495131746.610:29): body
 * type=INTEGRITY_DATA msg=audit(1495131746.610:29): body          (auditd's log)
 * type=1807 audit(...): body                                       (stamp elided)
 * </pre>
 *
 * Lines read from /dev/kmsg or dmesg carry its {@code \xNN} escapes: use {@link #parseKmsg}.
 */
public final class AuditRecordParser {
    private AuditRecordParser() {
    }

    /** Splits a line into header and fields. */
    public static ParsedRecord parse(String line) {
        String s = stripLineEnd(line);
        s = stripDmesgTime(s);
        if (s.startsWith("audit: ")) {
            s = s.substring("audit: ".length());
        }
        if (!s.startsWith("type=")) {
            throw new AuditParseException("expected 'type=' at the start of: " + line);
        }
        int sp = s.indexOf(' ');
        if (sp < 0) {
            throw new AuditParseException("no record after the type in: " + line);
        }
        String typeText = s.substring("type=".length(), sp);
        int type = typeNumber(typeText, line);
        s = s.substring(sp + 1);
        if (s.startsWith("msg=")) {
            s = s.substring("msg=".length());
        }
        if (!s.startsWith("audit(")) {
            throw new AuditParseException("expected 'audit(' after the type in: " + line);
        }
        int close = s.indexOf("): ");
        if (close < 0) {
            throw new AuditParseException("expected '): ' ending the audit(...) stamp in: " + line);
        }
        String inside = s.substring("audit(".length(), close);
        Optional<AuditStamp> stamp;
        if (inside.equals("...")) {
            stamp = Optional.empty();
        } else {
            try {
                stamp = Optional.of(AuditStamp.parse(inside));
            } catch (IllegalArgumentException e) {
                throw new AuditParseException(e.getMessage() + " in: " + line, e);
            }
        }
        return new ParsedRecord(stamp, type, fields(type, s.substring(close + 3)));
    }

    /** {@link #parse} of a line read from /dev/kmsg or dmesg, after undoing its escapes. */
    public static ParsedRecord parseKmsg(String line) {
        return parse(KmsgText.unescape(stripLineEnd(line)));
    }

    /** Parses a line and reads it as a record. */
    public static AuditRecord parseRecord(String line) {
        return parse(line).toRecord();
    }

    /** The fields of a record body (the text after {@code audit(...): }) of the given type. */
    public static ParsedRecord parseBody(AuditType type, String body) {
        return new ParsedRecord(Optional.empty(), type.number(), fields(type.number(), body));
    }

    private static String stripLineEnd(String line) {
        return line.endsWith("\n") ? line.substring(0, line.length() - 1) : line;
    }

    private static String stripDmesgTime(String s) {
        if (!s.startsWith("[")) {
            return s;
        }
        int end = s.indexOf("] ");
        return end < 0 ? s : s.substring(end + 2);
    }

    private static int typeNumber(String text, String line) {
        Optional<AuditType> known = AuditType.byText(text);
        if (known.isPresent()) {
            return known.get().number();
        }
        try {
            return Integer.parseInt(text);
        } catch (NumberFormatException e) {
            throw new AuditParseException("record type '" + text + "' is neither a number nor an integrity type in: " + line);
        }
    }

    /**
     * Splits a body into fields. Policy rule records of type 1807 carry bare values (a value may
     * start with a quote), so for them only spaces separate fields. Elsewhere a value starting
     * with {@code "} runs to the next quote, and a word without {@code =} continues the previous
     * bare value (in the kernel's records only policy rules use the {@code <} and {@code >}
     * operators): the kernel writes causes such as {@code signed policy required} and some LSM
     * contexts unquoted with spaces.
     */
    static List<AuditField> fields(int type, String body) {
        boolean bare = type == AuditType.INTEGRITY_POLICY_RULE.number();
        // Only policy rule records use < and > (uid<1000); elsewhere a bare word such as an LSM
        // context's "a<b" is part of the previous value.
        boolean orderingOperators = bare || type == AuditType.INTEGRITY_RULE.number() && !body.startsWith("file=");
        List<AuditField> out = new ArrayList<>();
        int n = body.length();
        int i = 0;
        while (i < n) {
            if (body.charAt(i) == ' ') {
                i++;
                continue;
            }
            int k = i;
            while (k < n && RuleRecord.Token.isKeyChar(body.charAt(k))) {
                k++;
            }
            boolean hasOperator = k > i && k < n && (body.charAt(k) == '='
                    || orderingOperators && (body.charAt(k) == '<' || body.charAt(k) == '>'));
            if (!hasOperator) {
                int end = wordEnd(body, i);
                String word = body.substring(i, end);
                if (bare || out.isEmpty() || out.getLast().quoted()) {
                    throw new AuditParseException("'" + word + "' is not a key=value field, at offset " + i + " of: " + body);
                }
                AuditField last = out.removeLast();
                out.add(new AuditField(last.key(), last.operator(), last.raw() + " " + word, false));
                i = end;
                continue;
            }
            String key = body.substring(i, k);
            char op = body.charAt(k);
            int v = k + 1;
            if (!bare && v < n && body.charAt(v) == '"') {
                int close = body.indexOf('"', v + 1);
                if (close < 0) {
                    throw new AuditParseException("unterminated quote in " + key + "= at offset " + v + " of: " + body);
                }
                if (close + 1 < n && body.charAt(close + 1) != ' ') {
                    throw new AuditParseException("text after the closing quote of " + key + "= at offset " + (close + 1) + " of: " + body);
                }
                out.add(new AuditField(key, op, body.substring(v + 1, close), true));
                i = close + 1;
            } else {
                int end = wordEnd(body, v);
                out.add(new AuditField(key, op, body.substring(v, end), false));
                i = end;
            }
        }
        return out;
    }

    private static int wordEnd(String s, int from) {
        int sp = s.indexOf(' ', from);
        return sp < 0 ? s.length() : sp;
    }
}
