package dev.imans.policy;

import dev.imans.crypto.HashAlgo;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A rule's read-back line, {@code ima_policy_show()} in ima_policy.c: fields in the kernel's
 * fixed order whatever order they were written in, every element followed by one space, then a
 * newline. Values are formatted through the same {@link Token} patterns the parser reads.
 */
final class RulePrinter {
    private RulePrinter() {}

    /** The kernel's {@code char tbuf[64]}: longer fsname values are cut to 63 characters. */
    private static final int TBUF_CHARS = 63;

    static String show(Rule r) {
        StringBuilder b = new StringBuilder();
        b.append(r.action().keyword()).append(' ');
        if (r.hasFunc()) {
            add(b, Token.FUNC.format(r.func().name()));
        }
        if (r.mask() != null) {
            add(b, Token.MASK.format(r.mask().text()));
        }
        if (r.fsMagic() != null) {
            add(b, Token.FSMAGIC.format("0x" + Long.toHexString(r.fsMagic())));
        }
        if (r.fsName() != null) {
            String name = r.fsName();
            add(b, Token.FSNAME.format(name.length() > TBUF_CHARS ? name.substring(0, TBUF_CHARS) : name));
        }
        if (!r.keyrings().isEmpty()) {
            add(b, Token.KEYRINGS.format(String.join("|", r.keyrings())));
        }
        if (!r.labels().isEmpty()) {
            add(b, Token.LABEL.format(String.join("|", r.labels())));
        }
        if (r.pcr() != null) {
            add(b, Token.PCR.format(Integer.toString(r.pcr())));
        }
        if (r.fsUuid() != null) {
            add(b, Token.FSUUID.format(r.fsUuid().toString()));
        }
        // uid and euid share a slot, printed at uid's place or euid's (which follows it); same for gid/egid.
        for (IdCondition id : new IdCondition[] {r.uid(), r.gid(), r.fowner(), r.fgroup()}) {
            if (id != null) {
                add(b, id.show());
            }
        }
        if (!r.appraiseAlgos().isEmpty()) {
            List<String> names = new ArrayList<>();
            for (HashAlgo a : r.appraiseAlgos()) {
                names.add(a.kernelName());
            }
            add(b, Token.APPRAISE_ALGOS.format(String.join(",", names)));
        }
        for (Map.Entry<LsmKey, String> e : r.lsm().entrySet()) {
            add(b, e.getKey().token().format(e.getValue()));
        }
        if (r.template() != null) {
            add(b, Token.TEMPLATE.format(r.template().templateName()));
        }
        if (r.digsigRequired()) {
            String type = r.verityRequired() ? "sigv3" : r.modsigAllowed() ? "imasig|modsig" : "imasig";
            add(b, Token.APPRAISE_TYPE.format(type));
        }
        if (r.verityRequired()) {
            add(b, Token.DIGEST_TYPE.format("verity"));
        }
        if (r.checkBlacklist()) {
            add(b, Token.APPRAISE_FLAG.format("check_blacklist"));
        }
        if (r.permitDirectio()) {
            add(b, Token.PERMIT_DIRECTIO.pattern());
        }
        return b.append('\n').toString();
    }

    private static void add(StringBuilder b, String element) {
        b.append(element).append(' ');
    }
}
