package dev.imans.audit;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Supplier;

/**
 * Reads a {@link ParsedRecord}'s fields in the kernel's order into the record types; the
 * inverse of {@link AuditEncoder}. Fields must come in the order the kernel writes them, so a
 * field out of place is reported rather than guessed at.
 */
final class RecordReader {
    private final ParsedRecord parsed;
    private final List<AuditField> fields;
    private int next;

    private RecordReader(ParsedRecord parsed) {
        this.parsed = parsed;
        this.fields = parsed.fields();
    }

    static AuditRecord read(ParsedRecord parsed) {
        AuditType type = parsed.type().orElseThrow(
                () -> new AuditParseException("type " + parsed.typeNumber() + " is not an integrity audit record"));
        RecordReader r = new RecordReader(parsed);
        return switch (type) {
            case INTEGRITY_POLICY_RULE -> r.rule(false);
            case INTEGRITY_RULE -> r.peekKey().filter("file"::equals).isPresent() ? r.measurement() : r.rule(true);
            default -> r.integrity(type);
        };
    }

    private AuditRecord integrity(AuditType type) {
        int pid = int32(expect("pid"));
        long uid = u32(expect("uid"));
        long auid = u32(expect("auid"));
        long ses = u32(expect("ses"));
        Optional<String> subj = optional("subj").map(AuditField::text);
        String op = expect("op").text();
        String cause = expect("cause").text();
        UntrustedString comm = expect("comm").untrusted();
        Optional<UntrustedString> name = optional("name").map(AuditField::untrusted);
        OptionalLong mntNs = name.isPresent() ? optionalU32("mnt_ns") : OptionalLong.empty();
        Optional<InodeRef> inode = optional("dev").map(dev -> new InodeRef(dev.untrusted(), u64(expect("ino"))));
        boolean res = bool(expect("res"));
        int errno = optional("errno").map(this::int32).orElse(0);
        end();
        return build(() -> {
            Subject subject = new Subject(pid, uid, auid, ses, subj, comm);
            Optional<StatusRecord.Op> status = StatusRecord.Op.byText(op);
            Optional<PcrRecord.Op> pcr = PcrRecord.Op.byText(op);
            if (type == AuditType.INTEGRITY_STATUS && status.isPresent() && name.isEmpty() && inode.isEmpty()) {
                return new StatusRecord(subject, status.get(), cause, res, errno);
            }
            if (type == AuditType.INTEGRITY_PCR && pcr.isPresent()) {
                return new PcrRecord(subject, pcr.get(), cause, name, mntNs, inode, res, errno);
            }
            return new IntegrityRecord(type, subject, op, cause, name, mntNs, inode, res, errno);
        });
    }

    private AuditRecord rule(boolean untrustedValues) {
        if (fields.isEmpty() || !fields.getLast().key().equals("res")) {
            throw new AuditParseException("a policy rule record ends with res=: " + describe());
        }
        List<RuleRecord.Token> tokens = new ArrayList<>();
        for (int i = 0; i < fields.size() - 1; i++) {
            AuditField f = fields.get(i);
            String value = untrustedValues ? f.untrusted().toString() : f.raw();
            tokens.add(build(() -> new RuleRecord.Token(f.key(), f.operator(), value)));
        }
        next = fields.size() - 1;
        boolean res = bool(expect("res"));
        return build(() -> new RuleRecord(tokens, res));
    }

    private AuditRecord measurement() {
        UntrustedString file = expect("file").untrusted();
        AuditField hashField = expect("hash");
        FileHash hash = build(() -> FileHash.parse(hashField.text()));
        OptionalLong mntNs = optionalU32("mnt_ns");
        Optional<InodeRef> inode = Optional.empty();
        if (mntNs.isPresent()) {
            UntrustedString dev = expect("dev").untrusted();
            inode = Optional.of(new InodeRef(dev, u64(expect("ino"))));
        }
        int ppid = int32(expect("ppid"));
        int pid = int32(expect("pid"));
        long auid = u32(expect("auid"));
        long uid = u32(expect("uid"));
        long gid = u32(expect("gid"));
        long euid = u32(expect("euid"));
        long suid = u32(expect("suid"));
        long fsuid = u32(expect("fsuid"));
        long egid = u32(expect("egid"));
        long sgid = u32(expect("sgid"));
        long fsgid = u32(expect("fsgid"));
        String tty = expect("tty").text();
        long ses = u32(expect("ses"));
        UntrustedString comm = expect("comm").untrusted();
        AuditField exeField = expect("exe");
        Optional<UntrustedString> exe = !exeField.quoted() && exeField.raw().equals("(null)")
                ? Optional.empty() : Optional.of(exeField.untrusted());
        Optional<String> subj = optional("subj").map(AuditField::text);
        end();
        Optional<InodeRef> in = inode;
        return build(() -> new AuditMeasurementRecord(file, hash, mntNs, in,
                new TaskInfo(ppid, pid, auid, uid, gid, euid, suid, fsuid, egid, sgid, fsgid, tty, ses, comm, exe, subj)));
    }

    private Optional<String> peekKey() {
        return next < fields.size() ? Optional.of(fields.get(next).key()) : Optional.empty();
    }

    private AuditField expect(String key) {
        if (next >= fields.size()) {
            throw new AuditParseException("missing " + key + "= at the end of " + describe());
        }
        AuditField f = fields.get(next);
        if (!f.key().equals(key)) {
            throw new AuditParseException("expected " + key + "= but found " + f.key() + "= (field " + (next + 1) + ") in " + describe());
        }
        next++;
        return f;
    }

    private Optional<AuditField> optional(String key) {
        if (next < fields.size() && fields.get(next).key().equals(key)) {
            return Optional.of(fields.get(next++));
        }
        return Optional.empty();
    }

    private OptionalLong optionalU32(String key) {
        Optional<AuditField> f = optional(key);
        return f.isPresent() ? OptionalLong.of(u32(f.get())) : OptionalLong.empty();
    }

    private void end() {
        if (next < fields.size()) {
            throw new AuditParseException("unexpected " + fields.get(next).key() + "= (field " + (next + 1) + ") in " + describe());
        }
    }

    private int int32(AuditField f) {
        try {
            return Integer.parseInt(plain(f));
        } catch (NumberFormatException e) {
            throw new AuditParseException(f.key() + "= must be a signed 32-bit number, got '" + f.raw() + "'", e);
        }
    }

    private long u32(AuditField f) {
        try {
            return Integer.toUnsignedLong(Integer.parseUnsignedInt(plain(f)));
        } catch (NumberFormatException e) {
            throw new AuditParseException(f.key() + "= must be an unsigned 32-bit number, got '" + f.raw() + "'", e);
        }
    }

    private long u64(AuditField f) {
        try {
            return Long.parseUnsignedLong(plain(f));
        } catch (NumberFormatException e) {
            throw new AuditParseException(f.key() + "= must be an unsigned 64-bit number, got '" + f.raw() + "'", e);
        }
    }

    private boolean bool(AuditField f) {
        return switch (plain(f)) {
            case "1" -> true;
            case "0" -> false;
            default -> throw new AuditParseException(f.key() + "= must be 0 or 1, got '" + f.raw() + "'");
        };
    }

    private String plain(AuditField f) {
        if (f.quoted() || f.operator() != '=') {
            throw new AuditParseException(f.key() + " must be written " + f.key() + "=<number>, got " + f.key() + f.operator() + f.written());
        }
        return f.raw();
    }

    private <T> T build(Supplier<T> maker) {
        try {
            return maker.get();
        } catch (AuditParseException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw new AuditParseException(e.getMessage() + " in " + describe(), e);
        }
    }

    private String describe() {
        return "type=" + parsed.typeNumber() + " record";
    }
}
