package dev.imans.cli;

import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Help;
import picocli.CommandLine.Model.CommandSpec;

/**
 * The {@code imans(1)} manual page, rendered from the command definitions themselves so it cannot
 * drift from {@code --help}: one section per command, its usage text kept as preformatted lines.
 */
final class ManPage {
    private ManPage() {}

    static String render(CommandLine root, String date) {
        StringBuilder b = new StringBuilder();
        b.append(".TH IMANS 1 \"").append(date).append("\" \"imans ").append(Version.get())
                .append("\" \"User Commands\"\n");
        b.append(".SH NAME\nimans \\- namespace-aware IMA for Linux containers\n");
        b.append(".SH SYNOPSIS\n.B imans\n.I command\n[\n.I options\n]\n");
        b.append(".SH DESCRIPTION\n").append(escape(String.join(" ", root.getCommandSpec().usageMessage()
                .description()))).append("\nEach command is described below; every command also answers\n.BR \\-\\-help .\n");
        section(b, root, true);
        b.append(".SH FILES\n.TP\n.I /run/imans/ima\nthe daemon's control filesystem (securityfs's ima/ interface)\n")
                .append(".TP\n.I /var/lib/imans\nthe daemon's state journal\n")
                .append(".TP\n.I /var/log/imans/audit.log\nthe audit records\n")
                .append(".TP\n.I /etc/imans/policies\npolicies named by containers' annotations\n");
        b.append(".SH SEE ALSO\n.BR evmctl (1),\n.BR fanotify (7),\n.BR runc (8)\n");
        return b.toString();
    }

    private static void section(StringBuilder b, CommandLine cl, boolean root) {
        CommandSpec spec = cl.getCommandSpec();
        if (!root && !spec.usageMessage().hidden()) {
            b.append(".SH ").append(escape(spec.qualifiedName(" ").toUpperCase(java.util.Locale.ROOT)))
                    .append("\n.nf\n");
            String usage = cl.getUsageMessage(Help.Ansi.OFF);
            for (String line : usage.split("\n", -1)) {
                b.append(escapeLine(line)).append('\n');
            }
            b.append(".fi\n");
        }
        for (Map.Entry<String, CommandLine> e : cl.getSubcommands().entrySet()) {
            if (e.getKey().equals(e.getValue().getCommandName())) {
                section(b, e.getValue(), false);
            }
        }
    }

    /** Text for a filled paragraph: backslashes doubled, a leading dot or quote defused. */
    private static String escape(String s) {
        return escapeLine(s.replace("\n", " "));
    }

    private static String escapeLine(String s) {
        String t = s.replace("\\", "\\e").replace("-", "\\-");
        return t.startsWith(".") || t.startsWith("'") ? "\\&" + t : t;
    }
}
