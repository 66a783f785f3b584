package dev.imans.audit;

import java.util.List;
import java.util.Arrays;

/**
 * The record {@code ima_parse_rule} (ima_policy.c) writes for each policy rule it parses: every
 * token it got to, in the order written, as {@code key=value } ({@code uid>5 }, {@code uid<5 }
 * for the ordering operators; the action as {@code action=measure }; a token it does not know as
 * {@code UNKNOWN=<token> }), then {@code res=1} when the rule was accepted. Parsing stops at the
 * first error, so a rejected rule's record may end early. {@code permit_directio} is not logged.
 *
 * <p>Type 1807 with bare values today; type 1805 with untrusted-string values in the seed's
 * kernel (see {@link AuditFormat}).
 */
public record RuleRecord(List<Token> tokens, boolean res) implements AuditRecord {

    /** One logged token: key, operator ({@code '='}, {@code '<'} or {@code '>'}) and value. */
    public record Token(String key, char operator, String value) {
        public Token {
            if (key.isEmpty() || !key.chars().allMatch(Token::isKeyChar)) {
                throw new IllegalArgumentException("rule key must be letters, digits and '_': '" + key + "'");
            }
            if (operator != '=' && operator != '<' && operator != '>') {
                throw new IllegalArgumentException("rule operator must be =, < or >: '" + operator + "'");
            }
            // The kernel splits rules on space and tab, so a value never holds them; a newline ends the rule.
            if (value.indexOf(' ') >= 0 || value.indexOf('\t') >= 0 || value.indexOf('\n') >= 0 || value.indexOf('\0') >= 0) {
                throw new IllegalArgumentException("rule value cannot hold a space, tab, newline or NUL: '" + value + "'");
            }
        }

        public static Token of(String key, String value) {
            return new Token(key, '=', value);
        }

        static boolean isKeyChar(int c) {
            return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_';
        }

        /** {@code key=value} as a policy writes it. */
        public String text() {
            return key + operator + value;
        }
    }

    public RuleRecord {
        tokens = List.copyOf(tokens);
        // In the seed format rule records share type 1805 with the audit action record, which
        // starts with file=; the kernel never logs a rule token under that key (it would be UNKNOWN=).
        if (!tokens.isEmpty() && tokens.getFirst().key().equals("file")) {
            throw new IllegalArgumentException("a rule record cannot start with file=: the kernel logs unknown tokens as UNKNOWN=");
        }
    }

    /** The key the kernel logs for a token it does not recognise. */
    public static final String UNKNOWN = "UNKNOWN";

    /** Shorthand: {@code RuleRecord.of(true, "action=measure", "func=FILE_CHECK", "uid<1000")}. */
    public static RuleRecord of(boolean res, String... tokens) {
        return new RuleRecord(Arrays.stream(tokens).map(RuleRecord::token).toList(), res);
    }

    private static Token token(String text) {
        int i = 0;
        while (i < text.length() && Token.isKeyChar(text.charAt(i))) {
            i++;
        }
        if (i == text.length()) {
            throw new IllegalArgumentException("rule token needs =, < or >: '" + text + "'");
        }
        return new Token(text.substring(0, i), text.charAt(i), text.substring(i + 1));
    }

}
