package dev.imans.policy;

import java.util.EnumSet;
import java.util.Set;

/**
 * The kernel's per-rule flag bits that {@code ima_validate_rule} checks against each func
 * (IMA_FUNC, IMA_MASK, ... in ima_policy.c and ima.h), with the token that sets each one.
 */
enum RuleFlag {
    FUNC("func", "func="),
    MASK("mask", "mask="),
    FSMAGIC("fsmagic", "fsmagic="),
    UID("uid", "uid"),
    FOWNER("fowner", "fowner"),
    FSUUID("fsuuid", "fsuuid="),
    INMASK("mask", "mask=^"),
    EUID("euid", "euid"),
    PCR("pcr", "pcr="),
    FSNAME("fsname", "fsname="),
    KEYRINGS("keyrings", "keyrings="),
    LABEL("label", "label="),
    VALIDATE_ALGOS("appraise_algos", "appraise_algos="),
    GID("gid", "gid"),
    EGID("egid", "egid"),
    FGROUP("fgroup", "fgroup"),
    DIGSIG_REQUIRED("appraise_type", "appraise_type="),
    PERMIT_DIRECTIO("permit_directio", "permit_directio"),
    MODSIG_ALLOWED("appraise_type", "appraise_type=imasig|modsig"),
    CHECK_BLACKLIST("appraise_flag", "appraise_flag="),
    VERITY_REQUIRED("digest_type", "digest_type=verity");

    /** {@link Token#key()} of the token that sets the flag: where to point an error. */
    final String key;
    /** How an error message names it. */
    final String text;

    RuleFlag(String key, String text) {
        this.key = key;
        this.text = text;
    }

    /** The flags a rule has set, as the kernel's {@code entry->flags} would hold them. */
    static Set<RuleFlag> of(Rule r) {
        Set<RuleFlag> f = EnumSet.noneOf(RuleFlag.class);
        if (r.hasFunc()) {
            f.add(FUNC);
        }
        if (r.mask() != null) {
            f.add(r.mask().contains() ? INMASK : MASK);
        }
        if (r.fsMagic() != null) {
            f.add(FSMAGIC);
        }
        if (r.uid() != null) {
            f.add(r.uid().kind() == IdKind.EUID ? EUID : UID);
        }
        if (r.gid() != null) {
            f.add(r.gid().kind() == IdKind.EGID ? EGID : GID);
        }
        if (r.fowner() != null) {
            f.add(FOWNER);
        }
        if (r.fgroup() != null) {
            f.add(FGROUP);
        }
        if (r.fsUuid() != null) {
            f.add(FSUUID);
        }
        if (r.pcr() != null) {
            f.add(PCR);
        }
        if (r.fsName() != null) {
            f.add(FSNAME);
        }
        if (!r.keyrings().isEmpty()) {
            f.add(KEYRINGS);
        }
        if (!r.labels().isEmpty()) {
            f.add(LABEL);
        }
        if (!r.appraiseAlgos().isEmpty()) {
            f.add(VALIDATE_ALGOS);
        }
        if (r.digsigRequired()) {
            f.add(DIGSIG_REQUIRED);
        }
        if (r.permitDirectio()) {
            f.add(PERMIT_DIRECTIO);
        }
        if (r.modsigAllowed()) {
            f.add(MODSIG_ALLOWED);
        }
        if (r.checkBlacklist()) {
            f.add(CHECK_BLACKLIST);
        }
        if (r.verityRequired()) {
            f.add(VERITY_REQUIRED);
        }
        return f;
    }
}
