package dev.imans.audit;

import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * Writes records as the kernel does, in one {@link AuditFormat}.
 *
 * <ul>
 * <li>{@link #body} is the text after {@code audit(...): } (what audit_log_format builds);</li>
 * <li>{@link #message} is {@code audit(SECONDS.MMM:SERIAL): body}, the netlink payload auditd gets;</li>
 * <li>{@link #line} is {@code type=1800 audit(...): body}, as {@code ausearch --raw} and the
 *     kernel's printk show it;</li>
 * <li>{@link #kmsgLine} is {@code audit: type=1800 audit(...): body}, the text kauditd_printk_skb
 *     hands to printk when no audit daemon listens (the {@code audit: } prefix is its pr_fmt).</li>
 * </ul>
 *
 * <p>{@code namespaceFields} decides whether a record's {@code mnt_ns=} (and, in the {@code audit}
 * action record, the {@code mnt_ns= dev= ino=} group) is written. It is on by default in both
 * formats: telling namespaces apart is what imans is for, and the fields sit where the 2017
 * patches put them. Turn it off to write exactly what an unpatched kernel would.
 */
public record AuditEncoder(AuditFormat format, boolean namespaceFields) {
    /** The seed format with namespace fields: imans's default. */
    public static final AuditEncoder DEFAULT = new AuditEncoder(AuditFormat.SEED, true);

    public AuditEncoder {
        Objects.requireNonNull(format, "format");
    }

    public static AuditEncoder of(AuditFormat format) {
        return new AuditEncoder(format, true);
    }

    /** The record type written in the header (policy rule records depend on the format). */
    public AuditType type(AuditRecord record) {
        return switch (record) {
            case IntegrityMessage m -> m.type();
            case RuleRecord r -> format.ruleRecordType();
            case AuditMeasurementRecord a -> AuditType.INTEGRITY_RULE;
        };
    }

    /** The record's text after the header. */
    public String body(AuditRecord record) {
        StringBuilder sb = new StringBuilder(160);
        switch (record) {
            case IntegrityMessage m -> integrity(sb, m);
            case RuleRecord r -> rule(sb, r);
            case AuditMeasurementRecord a -> measurement(sb, a);
        }
        return sb.toString();
    }

    /** {@code audit(...): body}. */
    public String message(AuditStamp stamp, AuditRecord record) {
        return stamp.text() + ": " + body(record);
    }

    /** {@code type=N audit(...): body}. */
    public String line(AuditStamp stamp, AuditRecord record) {
        return "type=" + type(record).number() + " " + message(stamp, record);
    }

    /** {@code audit: type=N audit(...): body}, as printk logs it (before /dev/kmsg's escaping). */
    public String kmsgLine(AuditStamp stamp, AuditRecord record) {
        return "audit: " + line(stamp, record);
    }

    /** The line's bytes in UTF-8 (untrusted strings are already ASCII; only rule values may not be). */
    public byte[] lineBytes(AuditStamp stamp, AuditRecord record) {
        return line(stamp, record).getBytes(StandardCharsets.UTF_8);
    }

    private void integrity(StringBuilder sb, IntegrityMessage m) {
        Subject s = m.subject();
        sb.append("pid=").append(s.pid())
                .append(" uid=").append(s.uid())
                .append(" auid=").append(s.auid())
                .append(" ses=").append(s.ses());
        s.subj().ifPresent(ctx -> sb.append(" subj=").append(ctx));
        sb.append(" op=").append(opText(m.op()))
                .append(" cause=").append(opText(m.cause()))
                .append(" comm=").append(s.comm().encode());
        m.name().ifPresent(n -> {
            sb.append(" name=").append(n.encode());
            if (namespaceFields) {
                m.mntNs().ifPresent(ns -> sb.append(" mnt_ns=").append(ns));
            }
        });
        m.inode().ifPresent(i -> sb.append(" dev=").append(i.dev().encode()).append(" ino=").append(i.inoText()));
        sb.append(" res=").append(m.res() ? 1 : 0);
        if (format.writesErrno()) {
            sb.append(" errno=").append(m.errno());
        }
    }

    private String opText(String text) {
        // audit_log_string in the seed's kernel: quotes, no escaping.
        return format.quotesOpAndCause() ? '"' + text + '"' : text;
    }

    private void rule(StringBuilder sb, RuleRecord r) {
        for (RuleRecord.Token t : r.tokens()) {
            sb.append(t.key()).append(t.operator());
            sb.append(format.escapesRuleValues() ? UntrustedString.of(t.value()).encode() : t.value());
            sb.append(' ');
        }
        sb.append("res=").append(r.res() ? 1 : 0);
    }

    private void measurement(StringBuilder sb, AuditMeasurementRecord a) {
        sb.append("file=").append(a.file().encode())
                .append(" hash=\"").append(a.hash().text()).append('"');
        if (namespaceFields && a.mntNs().isPresent()) {
            InodeRef i = a.inode().orElseThrow();
            sb.append(" mnt_ns=").append(a.mntNs().getAsLong())
                    .append(" dev=").append(i.dev().encode())
                    .append(" ino=").append(i.inoText());
        }
        TaskInfo t = a.task();
        sb.append(" ppid=").append(t.ppid())
                .append(" pid=").append(t.pid())
                .append(" auid=").append(t.auid())
                .append(" uid=").append(t.uid())
                .append(" gid=").append(t.gid())
                .append(" euid=").append(t.euid())
                .append(" suid=").append(t.suid())
                .append(" fsuid=").append(t.fsuid())
                .append(" egid=").append(t.egid())
                .append(" sgid=").append(t.sgid())
                .append(" fsgid=").append(t.fsgid())
                .append(" tty=").append(t.tty())
                .append(" ses=").append(t.ses())
                .append(" comm=").append(t.comm().encode())
                .append(" exe=").append(t.exe().map(UntrustedString::encode).orElse("(null)"));
        t.subj().ifPresent(ctx -> sb.append(" subj=").append(ctx));
    }
}
