package dev.imans.policy;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Parses a whole policy text as the kernel takes it through {@code cat file > policy}: one rule
 * per line, lines split at {@code \n} only, leading spaces and tabs skipped, blank lines and lines
 * starting with {@code #} ignored ({@code ima_parse_add_rule}). Any bad rule rejects the whole
 * text, and so does a text without rules ({@code ima_check_policy} on close). Unlike the kernel,
 * which stops at the first bad write, every bad rule is reported.
 */
public final class PolicyParser {
    private PolicyParser() {}

    /** The kernel takes at most PAGE_SIZE-1 bytes per write(), so a longer rule is cut apart: the longest line, in bytes. */
    public static final int MAX_LINE = 4095;

    /** Parses with {@link KernelProfile#defaults()}. */
    public static Policy parse(String text) throws PolicyException {
        return parse(text, KernelProfile.defaults());
    }

    public static Policy parse(String text, KernelProfile profile) throws PolicyException {
        List<Rule> rules = new ArrayList<>();
        List<PolicyError> errors = new ArrayList<>();
        int lineNo = 0;
        int start = 0;
        while (start <= text.length()) {
            int end = text.indexOf('\n', start);
            if (end < 0) {
                end = text.length();
            }
            String line = text.substring(start, end);
            lineNo++;
            start = end + 1;
            PolicyError lineError = checkLine(line, lineNo);
            if (lineError != null) {
                errors.add(lineError);
                continue;
            }
            if (isBlankOrComment(line)) {
                continue;
            }
            RuleParser.Outcome out = RuleParser.parse(line, lineNo, profile);
            if (out.error() != null) {
                errors.add(out.error());
            } else {
                rules.add(out.rule());
            }
        }
        if (!errors.isEmpty()) {
            throw new PolicyException(errors);
        }
        if (rules.isEmpty()) {
            throw new PolicyException(List.of(new PolicyError(1, 1,
                    "the policy has no rules: the kernel rejects an empty policy (only blank lines or comments)")));
        }
        return Policy.of(rules);
    }

    /**
     * One line of a policy write, as {@code ima_parse_add_rule} takes it, with {@link KernelProfile#defaults()}.
     *
     * @param line the line without its newline
     * @param lineNo its 1-based number, for the error
     * @return its rule, or empty for a blank or comment line
     * @throws PolicyException with the line's one error when the kernel would refuse it
     */
    public static Optional<Rule> parseLine(String line, int lineNo) throws PolicyException {
        return parseLine(line, lineNo, KernelProfile.defaults());
    }

    /** As {@link #parseLine(String, int)}, for a kernel of {@code profile}. */
    public static Optional<Rule> parseLine(String line, int lineNo, KernelProfile profile) throws PolicyException {
        PolicyError lineError = checkLine(line, lineNo);
        if (lineError != null) {
            throw new PolicyException(List.of(lineError));
        }
        if (isBlankOrComment(line)) {
            return Optional.empty();
        }
        RuleParser.Outcome out = RuleParser.parse(line, lineNo, profile);
        if (out.error() != null) {
            throw new PolicyException(List.of(out.error()));
        }
        return Optional.of(out.rule());
    }

    private static PolicyError checkLine(String line, int lineNo) {
        int nul = line.indexOf('\0');
        if (nul >= 0) {
            return new PolicyError(lineNo, nul + 1, "NUL byte in the rule: the kernel ends the write there");
        }
        if (line.length() > MAX_LINE) {
            return new PolicyError(lineNo, MAX_LINE + 1, "rule longer than " + MAX_LINE
                    + " bytes: the kernel reads at most " + MAX_LINE + " bytes per write and would cut it apart");
        }
        if (line.startsWith("/")) {
            return new PolicyError(lineNo, 1, "a line starting with \"/\" makes the kernel load a policy file by"
                    + " that path; write the rules themselves instead");
        }
        return null;
    }

    private static boolean isBlankOrComment(String line) {
        int i = 0;
        while (i < line.length() && (line.charAt(i) == ' ' || line.charAt(i) == '\t')) {
            i++;
        }
        return i == line.length() || line.charAt(i) == '#';
    }
}
