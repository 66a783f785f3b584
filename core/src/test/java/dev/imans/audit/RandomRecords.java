package dev.imans.audit;

import dev.imans.crypto.HashAlgo;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Random;

/** Seeded random records for round-trip tests; every field's edge values come up often. */
final class RandomRecords {
    private static final String[] OPS = {"appraise_data", "collect_data", "mmap_file", "set_data", "update_metadata"};
    private static final String[] CAUSES = {"invalid-hash", "missing-hash", "IMA-signature-required",
            "invalid-signature", "signed policy required", "TPM_error(-5)", "failed(directio)", "-ENOMEM"};
    private static final String BARE = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_:./()[],<>!?#%&*+;@^`{}|~'\\$";

    private final Random rnd;
    private final AuditFormat format;

    RandomRecords(long seed, AuditFormat format) {
        this.rnd = new Random(seed);
        this.format = format;
    }

    AuditRecord next() {
        return switch (rnd.nextInt(5)) {
            case 0 -> integrity();
            case 1 -> status();
            case 2 -> pcr();
            case 3 -> rule();
            default -> measurement();
        };
    }

    private IntegrityRecord integrity() {
        AuditType type = pick(new AuditType[] {AuditType.INTEGRITY_DATA, AuditType.INTEGRITY_METADATA,
                AuditType.INTEGRITY_HASH, AuditType.INTEGRITY_EVM_XATTR, AuditType.INTEGRITY_USERSPACE});
        Optional<UntrustedString> name = rnd.nextInt(4) == 0 ? Optional.empty() : Optional.of(untrusted());
        OptionalLong mntNs = name.isPresent() && rnd.nextBoolean() ? OptionalLong.of(u32()) : OptionalLong.empty();
        return new IntegrityRecord(type, subject(), rnd.nextBoolean() ? pick(OPS) : bare(), cause(), name, mntNs,
                inode(), rnd.nextBoolean(), errno());
    }

    private StatusRecord status() {
        return new StatusRecord(subject(), pick(StatusRecord.Op.values()), cause(), rnd.nextBoolean(), errno());
    }

    private PcrRecord pcr() {
        Optional<UntrustedString> name = rnd.nextInt(4) == 0 ? Optional.empty() : Optional.of(untrusted());
        OptionalLong mntNs = name.isPresent() && rnd.nextBoolean() ? OptionalLong.of(u32()) : OptionalLong.empty();
        return new PcrRecord(subject(), pick(PcrRecord.Op.values()), cause(), name, mntNs, inode(), rnd.nextBoolean(), errno());
    }

    private RuleRecord rule() {
        List<RuleRecord.Token> tokens = new ArrayList<>();
        int n = rnd.nextInt(6);
        for (int i = 0; i < n; i++) {
            String key = i == 0 ? "action" : pick(new String[] {"func", "mask", "fsmagic", "uid", "fowner", "UNKNOWN", "x_1"});
            tokens.add(new RuleRecord.Token(key, pick(new Character[] {'=', '=', '<', '>'}), ruleValue()));
        }
        return new RuleRecord(tokens, rnd.nextBoolean());
    }

    private AuditMeasurementRecord measurement() {
        HashAlgo algo = pick(new HashAlgo[] {HashAlgo.SHA1, HashAlgo.SHA256, HashAlgo.SHA512, HashAlgo.SM3_256, HashAlgo.MD5});
        byte[] digest = new byte[algo.digestSize()];
        rnd.nextBytes(digest);
        boolean ns = rnd.nextBoolean();
        TaskInfo task = new TaskInfo(rnd.nextInt(), rnd.nextInt(), u32(), u32(), u32(), u32(), u32(), u32(), u32(), u32(),
                u32(), rnd.nextBoolean() ? TaskInfo.NO_TTY : "pts" + rnd.nextInt(10), u32(), untrusted(),
                rnd.nextBoolean() ? Optional.empty() : Optional.of(untrusted()), subj());
        return new AuditMeasurementRecord(untrusted(), new FileHash(algo, digest),
                ns ? OptionalLong.of(u32()) : OptionalLong.empty(),
                ns ? Optional.of(new InodeRef(untrusted(), rnd.nextLong())) : Optional.empty(), task);
    }

    private Subject subject() {
        return new Subject(rnd.nextInt(), u32(), u32(), u32(), subj(), untrusted());
    }

    private Optional<String> subj() {
        return switch (rnd.nextInt(3)) {
            case 0 -> Optional.empty();
            case 1 -> Optional.of("unconfined");
            default -> Optional.of(bare());
        };
    }

    private Optional<InodeRef> inode() {
        return rnd.nextInt(3) == 0 ? Optional.empty() : Optional.of(new InodeRef(untrusted(), rnd.nextLong()));
    }

    private int errno() {
        return format == AuditFormat.SEED ? 0 : rnd.nextInt(3) == 0 ? -rnd.nextInt(140) : 0;
    }

    private String cause() {
        return rnd.nextBoolean() ? pick(CAUSES) : bare();
    }

    private long u32() {
        return switch (rnd.nextInt(4)) {
            case 0 -> 0;
            case 1 -> Subject.UNSET;
            default -> rnd.nextLong(Subject.UNSET + 1);
        };
    }

    /** Bytes of every kind: printable, spaces and quotes, control bytes, high bytes, empty. */
    private UntrustedString untrusted() {
        int len = rnd.nextInt(12);
        byte[] b = new byte[len];
        for (int i = 0; i < len; i++) {
            b[i] = switch (rnd.nextInt(4)) {
                case 0 -> (byte) rnd.nextInt(256);
                case 1 -> (byte) pick(new Character[] {' ', '"', '\n', '\t', 0x7f, '\\', '='}).charValue();
                default -> (byte) (0x21 + rnd.nextInt(0x7e - 0x21 + 1));
            };
        }
        return UntrustedString.ofBytes(b);
    }

    /** Printable words separated by single spaces, no quotes or '=' (op, cause, subj). */
    private String bare() {
        StringBuilder sb = new StringBuilder();
        int words = 1 + rnd.nextInt(3);
        for (int w = 0; w < words; w++) {
            if (w > 0) {
                sb.append(' ');
            }
            int len = 1 + rnd.nextInt(8);
            for (int i = 0; i < len; i++) {
                sb.append(BARE.charAt(rnd.nextInt(BARE.length())));
            }
        }
        return sb.toString();
    }

    /** What a policy token's value can be: any text but space, tab, newline and NUL. */
    private String ruleValue() {
        StringBuilder sb = new StringBuilder();
        int len = rnd.nextInt(10);
        for (int i = 0; i < len; i++) {
            int cp = switch (rnd.nextInt(5)) {
                case 0 -> 1 + rnd.nextInt(0x7f);
                case 1 -> pick(new Integer[] {(int) '"', (int) '=', (int) '<', (int) '>', (int) '\r', 0x7f, 0xe9, 0x4e2d});
                default -> 0x21 + rnd.nextInt(0x7e - 0x21 + 1);
            };
            if (cp == ' ' || cp == '\t' || cp == '\n') {
                cp = '_';
            }
            sb.appendCodePoint(cp);
        }
        return sb.toString();
    }

    private <T> T pick(T[] options) {
        return options[rnd.nextInt(options.length)];
    }
}
