package dev.imans.policy;

import dev.imans.crypto.HashAlgo;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * Parses one rule line, {@code ima_parse_rule()} in ima_policy.c: tokens split on space and tab,
 * each matched against {@link Token}, order-dependent checks done as the token is read; the first
 * bad token ends the rule, as in the kernel. Whole-rule checks follow in {@link RuleValidator}.
 */
final class RuleParser {
    private static final int MAX_PCR = 63;
    private static final UUID NIL_UUID = new UUID(0, 0);
    private static final int UUID_LENGTH = 36;

    private final KernelProfile profile;

    // The rule being built, like the kernel's struct ima_rule_entry.
    private Action action;
    private Func func = Func.NONE;
    private MaskCondition mask;
    private Long fsMagic;
    private String fsName;
    private List<String> keyrings = List.of();
    private List<String> labels = List.of();
    private Integer pcr;
    private UUID fsUuid;
    private IdCondition uid;
    private IdCondition gid;
    private IdCondition fowner;
    private IdCondition fgroup;
    private final Set<HashAlgo> algos = EnumSet.noneOf(HashAlgo.class);
    private final Map<LsmKey, String> lsm = new EnumMap<>(LsmKey.class);
    private Template template;
    private boolean digsig;
    private boolean modsig;
    private boolean verity;
    private boolean blacklist;
    private boolean directio;
    private final Map<String, Integer> columns = new HashMap<>();
    private int firstColumn;

    private RuleParser(KernelProfile profile) {
        this.profile = profile;
    }

    /** A rule the kernel refuses; internal to the parser, turned into a {@link PolicyError}. */
    private static final class Rejected extends Exception {
        final int column;

        Rejected(int column, String reason) {
            super(reason, null, false, false);
            this.column = column;
        }
    }

    /** The rule on this line, or the error that makes the kernel refuse it. */
    record Outcome(Rule rule, PolicyError error) {}

    /** Parses a line that is not blank and not a comment; {@code line} is the raw line (columns count from its start). */
    static Outcome parse(String line, int lineNo, KernelProfile profile) {
        RuleParser p = new RuleParser(profile);
        try {
            Rule rule = p.parseLine(line, lineNo);
            return RuleValidator.validate(rule, profile)
                    .map(e -> new Outcome(null, e))
                    .orElseGet(() -> new Outcome(rule, null));
        } catch (Rejected r) {
            return new Outcome(null, new PolicyError(lineNo, r.column, r.getMessage()));
        }
    }

    private Rule parseLine(String line, int lineNo) throws Rejected {
        int i = 0;
        int n = line.length();
        while (i < n) {
            char c = line.charAt(i);
            if (c == ' ' || c == '\t') {
                i++;
                continue;
            }
            int start = i;
            while (i < n && line.charAt(i) != ' ' && line.charAt(i) != '\t') {
                i++;
            }
            String word = line.substring(start, i);
            int column = start + 1;
            if (firstColumn == 0) {
                firstColumn = column;
            }
            if (profile.suffixComments() && word.startsWith("#")) {
                break;
            }
            apply(word, column);
        }
        if (firstColumn == 0) {
            firstColumn = 1;
        }
        if (action == null) {
            throw new Rejected(firstColumn, "rule has no action: it needs one of measure, dont_measure, "
                    + "appraise, dont_appraise, audit, hash, dont_hash");
        }
        return new Rule(action, func, mask, fsMagic, fsName, keyrings, labels, pcr, fsUuid, uid, gid,
                fowner, fgroup, algos, lsm, template, digsig, modsig, verity, blacklist, directio,
                new Origin(lineNo, firstColumn, columns));
    }

    private void apply(String word, int col) throws Rejected {
        Token.Match m = Token.match(word).orElseThrow(() -> new Rejected(col, unknownToken(word)));
        Token t = m.token();
        String v = m.value();
        Action a = Action.of(t);
        if (a != null) {
            if (action != null) {
                throw new Rejected(col, "a rule takes exactly one action: \"" + a + "\" follows \"" + action + "\"");
            }
            action = a;
            columns.put(Origin.ACTION, col);
            return;
        }
        columns.put(t.key(), col);
        IdCondition.Spec id = IdKind.of(t);
        if (id != null) {
            applyId(id, v, col);
            return;
        }
        LsmKey lsmKey = LsmKey.of(t);
        if (lsmKey != null) {
            applyLsm(lsmKey, v, col);
            return;
        }
        switch (t) {
            case FUNC -> applyFunc(v, col);
            case MASK -> applyMask(v, col);
            case FSMAGIC -> applyFsMagic(v, col);
            case FSNAME -> fsName = v;
            case KEYRINGS -> {
                if (!profile.asymmetricKeys()) {
                    throw new Rejected(col, "keyrings= needs CONFIG_IMA_MEASURE_ASYMMETRIC_KEYS, which this kernel lacks");
                }
                if (!keyrings.isEmpty()) {
                    throw new Rejected(col, "duplicate keyrings= condition");
                }
                keyrings = list("keyrings", v, col);
            }
            case LABEL -> {
                if (!labels.isEmpty()) {
                    throw new Rejected(col, "duplicate label= condition");
                }
                labels = list("label", v, col);
            }
            case FSUUID -> applyFsUuid(v, col);
            case DIGEST_TYPE -> {
                if (digsig) {
                    throw new Rejected(col, "digest_type= must come before appraise_type=");
                }
                if (!v.equals("verity")) {
                    throw new Rejected(col, "unknown digest_type " + quote(v) + ": only verity is known");
                }
                verity = true;
            }
            case APPRAISE_TYPE -> applyAppraiseType(v, col);
            case APPRAISE_FLAG -> applyAppraiseFlag(v, col);
            case APPRAISE_ALGOS -> applyAlgos(v, col);
            case PERMIT_DIRECTIO -> directio = true;
            case PCR -> applyPcr(v, col);
            case TEMPLATE -> applyTemplate(v, col);
            default -> throw new IllegalStateException("token without a handler: " + t);
        }
    }

    private void applyFunc(String v, int col) throws Rejected {
        if (func != Func.NONE) {
            throw new Rejected(col, "duplicate func= condition");
        }
        Func f = Func.byPolicyName(v).orElse(null);
        if (f == null) {
            String hint = Func.byPolicyName(v.toUpperCase(Locale.ROOT)).isPresent() ? " (func names are upper case)" : "";
            throw new Rejected(col, "unknown func " + quote(v) + hint + crHint(v));
        }
        if (!profile.funcs().contains(f)) {
            String why = f == Func.KEY_CHECK ? "it needs CONFIG_IMA_MEASURE_ASYMMETRIC_KEYS"
                    : "this kernel does not know it (newer kernels only)";
            throw new Rejected(col, "func=" + v + " is not supported: " + why);
        }
        func = f;
    }

    private void applyMask(String v, int col) throws Rejected {
        if (mask != null) {
            throw new Rejected(col, "duplicate mask= condition");
        }
        boolean contains = v.startsWith("^");
        Mask bit = Mask.byName(contains ? v.substring(1) : v).orElseThrow(() -> new Rejected(col,
                "unknown mask " + quote(v) + ": expected MAY_EXEC, MAY_WRITE, MAY_READ or MAY_APPEND,"
                        + " optionally after ^" + crHint(v)));
        mask = new MaskCondition(bit, contains);
    }

    private void applyFsMagic(String v, int col) throws Rejected {
        // The kernel's duplicate test looks at the value, so fsmagic=0 can be given again.
        if (fsMagic != null && fsMagic != 0) {
            throw new Rejected(col, "duplicate fsmagic= condition");
        }
        KernelNumbers.Result r = KernelNumbers.kstrtoul(v, 16);
        switch (r.status()) {
            case INVALID -> throw new Rejected(col, "invalid fsmagic " + quote(v)
                    + ": expected a hexadecimal number (0x optional)" + crHint(v));
            case RANGE -> throw new Rejected(col, "fsmagic " + quote(v) + " does not fit in 64 bits");
            case OK -> fsMagic = r.value();
        }
    }

    private void applyFsUuid(String v, int col) throws Rejected {
        if (fsUuid != null && !fsUuid.equals(NIL_UUID)) {
            throw new Rejected(col, "duplicate fsuuid= condition");
        }
        // uuid_parse() checks only the first 36 characters; anything after them is ignored.
        if (v.length() < UUID_LENGTH || !canonicalUuid(v)) {
            throw new Rejected(col, "invalid fsuuid " + quote(v)
                    + ": expected a UUID like 6a2ec3e7-f8dc-4e9b-9d3c-e1d1f5b4f8a1");
        }
        fsUuid = UUID.fromString(v.substring(0, UUID_LENGTH));
    }

    private static boolean canonicalUuid(String v) {
        for (int i = 0; i < UUID_LENGTH; i++) {
            char c = v.charAt(i);
            boolean dash = i == 8 || i == 13 || i == 18 || i == 23;
            if (dash ? c != '-' : !isAsciiHex(c)) {
                return false;
            }
        }
        return true;
    }

    private static boolean isAsciiHex(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    }

    private void applyId(IdCondition.Spec spec, String v, int col) throws Rejected {
        String key = spec.kind().key();
        IdCondition current = switch (spec.kind()) {
            case UID, EUID -> uid;
            case GID, EGID -> gid;
            case FOWNER -> fowner;
            case FGROUP -> fgroup;
        };
        if (current != null) {
            String reason = switch (spec.kind()) {
                case UID, EUID -> "duplicate uid/euid condition: uid and euid share one slot";
                case GID, EGID -> "duplicate gid/egid condition: gid and egid share one slot";
                case FOWNER -> "duplicate fowner condition: fowner=, fowner> and fowner< share one slot";
                case FGROUP -> "duplicate fgroup condition: fgroup=, fgroup> and fgroup< share one slot";
            };
            throw new Rejected(col, reason);
        }
        KernelNumbers.Result r = KernelNumbers.kstrtoul(v, 10);
        if (r.status() == KernelNumbers.Status.INVALID) {
            throw new Rejected(col, "invalid " + key + " " + quote(v) + ": expected a decimal number" + crHint(v));
        }
        if (r.status() == KernelNumbers.Status.RANGE || r.value() < 0 || r.value() > IdCondition.MAX_ID) {
            throw new Rejected(col, key + " " + quote(v) + " is out of range: ids are 0..4294967294"
                    + " (32 bits; 4294967295 is the invalid id)");
        }
        IdCondition c = new IdCondition(spec.kind(), spec.op(), r.value());
        switch (spec.kind()) {
            case UID, EUID -> uid = c;
            case GID, EGID -> gid = c;
            case FOWNER -> fowner = c;
            case FGROUP -> fgroup = c;
        }
    }

    private void applyLsm(LsmKey key, String v, int col) throws Rejected {
        String name = key.token().key();
        if (lsm.containsKey(key)) {
            throw new Rejected(col, "duplicate " + name + "= condition");
        }
        if (!profile.lsmRules().contains(key)) {
            StringBuilder why = new StringBuilder(name).append("= is not supported by the active LSM")
                    .append(" (the kernel logs \"rule for LSM '").append(v).append("' is undefined\")");
            if (!profile.lsmRules().isEmpty()) {
                why.append("; supported here:");
                for (LsmKey k : profile.lsmRules()) {
                    why.append(' ').append(k.token().key()).append('=');
                }
            }
            throw new Rejected(col, why.toString());
        }
        lsm.put(key, v);
    }

    private void applyAppraiseType(String v, int col) throws Rejected {
        switch (v) {
            case "imasig" -> {
                if (verity) {
                    throw new Rejected(col, "appraise_type=imasig cannot follow digest_type=verity (use appraise_type=sigv3)");
                }
                digsig = true;
            }
            case "sigv3" -> {
                if (!verity) {
                    throw new Rejected(col, "appraise_type=sigv3 must follow digest_type=verity");
                }
                digsig = true;
            }
            case "imasig|modsig" -> {
                if (!profile.modsig()) {
                    throw new Rejected(col, "appraise_type=imasig|modsig needs CONFIG_IMA_APPRAISE_MODSIG, which this kernel lacks");
                }
                if (verity) {
                    throw new Rejected(col, "appraise_type=imasig|modsig cannot follow digest_type=verity");
                }
                digsig = true;
                modsig = true;
            }
            default -> throw new Rejected(col, "unknown appraise_type " + quote(v) + ": expected imasig, "
                    + (profile.modsig() ? "imasig|modsig, " : "") + "or sigv3 after digest_type=verity" + crHint(v));
        }
    }

    private void applyAppraiseFlag(String v, int col) throws Rejected {
        if (profile.implicitBlacklist()) {
            return; // accepted, audited and ignored by kernels that always check the blacklist
        }
        if (!profile.modsig()) {
            throw new Rejected(col, "appraise_flag= needs CONFIG_IMA_APPRAISE_MODSIG, which this kernel lacks");
        }
        if (!v.contains("blacklist")) {
            throw new Rejected(col, "unknown appraise_flag " + quote(v) + ": only check_blacklist is known");
        }
        blacklist = true;
    }

    private void applyAlgos(String v, int col) throws Rejected {
        if (!algos.isEmpty()) {
            throw new Rejected(col, "duplicate appraise_algos= option");
        }
        for (String name : v.split(",", -1)) {
            HashAlgo algo = null;
            for (HashAlgo h : profile.hashAlgoNames()) {
                if (h.kernelName().equals(name)) {
                    algo = h;
                }
            }
            if (algo == null) {
                throw new Rejected(col, "unknown hash algorithm " + quote(name) + " in appraise_algos=" + crHint(name));
            }
            if (!profile.hashAlgosAvailable().contains(algo)) {
                throw new Rejected(col, "unavailable hash algorithm " + quote(name)
                        + " in appraise_algos=: this kernel has no implementation of it");
            }
            algos.add(algo);
        }
    }

    private void applyPcr(String v, int col) throws Rejected {
        KernelNumbers.Result r = KernelNumbers.kstrtoint(v);
        if (r.status() == KernelNumbers.Status.INVALID) {
            throw new Rejected(col, "invalid pcr " + quote(v) + ": expected a decimal number" + crHint(v));
        }
        if (!r.ok() || r.value() < 0 || r.value() > MAX_PCR) {
            throw new Rejected(col, "pcr " + quote(v) + " is out of range: must be 0.." + MAX_PCR);
        }
        pcr = (int) r.value();
    }

    private void applyTemplate(String v, int col) throws Rejected {
        if (action == null) {
            throw new Rejected(col, "template= must follow the measure action");
        }
        if (action != Action.MEASURE) {
            throw new Rejected(col, "template= is only allowed with the measure action, not " + action);
        }
        Template t = Template.lookup(v).orElseThrow(() -> new Rejected(col, "unknown template " + quote(v)
                + ": expected one of " + templateNames() + " or one of their formats" + crHint(v)));
        if (template != null) {
            throw new Rejected(col, "duplicate template= option");
        }
        template = t;
    }

    private static String templateNames() {
        List<String> names = new ArrayList<>();
        for (Template t : Template.values()) {
            names.add(t.templateName());
        }
        return String.join(", ", names);
    }

    private static List<String> list(String key, String v, int col) throws Rejected {
        List<String> items = List.of(v.split("\\|", -1));
        if (items.contains("")) {
            throw new Rejected(col, key + "= has an empty item in " + quote(v));
        }
        return items;
    }

    private static String unknownToken(String word) {
        StringBuilder s = new StringBuilder("unknown token ").append(quote(word));
        if (word.startsWith("#")) {
            s.append(" (this kernel does not accept a comment after a rule: put it on a line of its own)");
        } else if (Token.match(word.toLowerCase(Locale.ROOT)).isPresent()) {
            s.append(" (policy keywords are lower case)");
        } else if (word.endsWith("=") || word.endsWith("<") || word.endsWith(">")) {
            s.append(" (a value is missing)");
        }
        return s.append(crHint(word)).toString();
    }

    private static String crHint(String v) {
        return v.endsWith("\r") ? " (a carriage return from a CRLF line end is part of the token: the kernel"
                + " does not accept CRLF line ends)" : "";
    }

    /** Quotes text for a message, escaping control and non-ASCII characters so the message stays one clean line. */
    static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                default -> {
                    if (c >= 0x20 && c < 0x7f) {
                        b.append(c);
                    } else if (c <= 0xff) {
                        b.append(String.format("\\x%02x", (int) c));
                    } else {
                        b.append(String.format("\\u%04x", (int) c));
                    }
                }
            }
        }
        return b.append('"').toString();
    }
}
