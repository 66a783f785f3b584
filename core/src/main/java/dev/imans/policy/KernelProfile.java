package dev.imans.policy;

import dev.imans.crypto.HashAlgo;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;

/**
 * The parts of a kernel's build and boot state that change which policies it accepts. The
 * default, {@link #debian61()}, reproduces Debian's linux-image-6.1 (6.1.192) with AppArmor as
 * the active LSM, checked against the read-back oracle (policy-verdicts.tsv).
 *
 * @param funcs              the {@code func=} names the kernel parses. 6.1 lacks MMAP_CHECK_REQPROT;
 *                           KEY_CHECK is there only with CONFIG_IMA_MEASURE_ASYMMETRIC_KEYS, which also
 *                           gates {@code keyrings=}
 * @param modsig             CONFIG_IMA_APPRAISE_MODSIG: {@code appraise_type=imasig|modsig} and (on
 *                           kernels before the implicit blacklist) {@code appraise_flag=check_blacklist}
 * @param implicitBlacklist  newer kernels ("integrity: Always reference the blacklist keyring"): every
 *                           {@code appraise_type} checks the blacklist, {@code appraise_flag=} is accepted
 *                           and ignored and never read back. Off on 6.1, where {@code appraise_flag}
 *                           needs modsig and reads back as {@code appraise_flag=check_blacklist}
 * @param suffixComments     newer kernels stop reading a rule at a token starting with {@code #}; 6.1
 *                           refuses it as an unknown token
 * @param hashAlgoNames      the names in the kernel's {@code hash_algo_name[]}; 6.1 ends at streebog512
 *                           (no sha3-*)
 * @param hashAlgosAvailable the algorithms {@code crypto_has_alg()} finds (built in or loadable). Debian's
 *                           6.1 dropped rmd128/256/320 and tgr* from crypto; md4, sha256 and sha512 were
 *                           seen accepted by the oracle, the others follow Debian's config
 * @param lsmRules           the LSM conditions the active LSM can build rules for. AppArmor supports
 *                           only {@code subj_role}; SELinux would support all six; none without an LSM.
 *                           Unsupported ones are refused, as the kernel does while the boot policy is
 *                           active
 * @param writePolicy        CONFIG_IMA_WRITE_POLICY: adds {@code appraise func=POLICY_CHECK
 *                           appraise_type=imasig} to the {@code appraise_tcb} built-in (off on Debian)
 * @param appraiseSignedInit CONFIG_IMA_APPRAISE_SIGNED_INIT: {@code appraise_tcb}'s {@code appraise fowner=0}
 *                           requires a signature (off on Debian)
 */
public record KernelProfile(
        Set<Func> funcs,
        boolean modsig,
        boolean implicitBlacklist,
        boolean suffixComments,
        Set<HashAlgo> hashAlgoNames,
        Set<HashAlgo> hashAlgosAvailable,
        Set<LsmKey> lsmRules,
        boolean writePolicy,
        boolean appraiseSignedInit) {

    public KernelProfile {
        funcs = copy(funcs, Func.class);
        hashAlgoNames = copy(hashAlgoNames, HashAlgo.class);
        hashAlgosAvailable = copy(hashAlgosAvailable, HashAlgo.class);
        lsmRules = copy(lsmRules, LsmKey.class);
        if (funcs.contains(Func.NONE) || funcs.contains(Func.POST_SETATTR)) {
            throw new IllegalArgumentException("NONE and POST_SETATTR cannot be named in a policy");
        }
    }

    private static final KernelProfile DEBIAN_61 = new KernelProfile(
            EnumSet.complementOf(EnumSet.of(Func.NONE, Func.POST_SETATTR, Func.MMAP_CHECK_REQPROT)),
            false,
            false,
            false,
            EnumSet.range(HashAlgo.MD4, HashAlgo.STREEBOG_512),
            EnumSet.complementOf(EnumSet.of(HashAlgo.RMD128, HashAlgo.RMD256, HashAlgo.RMD320,
                    HashAlgo.TGR128, HashAlgo.TGR160, HashAlgo.TGR192,
                    HashAlgo.SHA3_256, HashAlgo.SHA3_384, HashAlgo.SHA3_512)),
            EnumSet.of(LsmKey.SUBJ_ROLE),
            false,
            false);

    /** Debian 12's 6.1 kernel with AppArmor: the reference the oracle captures were taken on. */
    public static KernelProfile debian61() {
        return DEBIAN_61;
    }

    /** The default: {@link #debian61()}. */
    public static KernelProfile defaults() {
        return DEBIAN_61;
    }

    /**
     * A recent mainline kernel (about 6.15) with Debian's options plus CONFIG_IMA_APPRAISE_MODSIG:
     * MMAP_CHECK_REQPROT, suffixed comments, the implicit blacklist and sha3 names.
     */
    public static KernelProfile recent() {
        return new KernelProfile(
                EnumSet.complementOf(EnumSet.of(Func.NONE, Func.POST_SETATTR)),
                true,
                true,
                true,
                EnumSet.allOf(HashAlgo.class),
                EnumSet.complementOf(EnumSet.of(HashAlgo.RMD128, HashAlgo.RMD256, HashAlgo.RMD320,
                        HashAlgo.TGR128, HashAlgo.TGR160, HashAlgo.TGR192)),
                EnumSet.of(LsmKey.SUBJ_ROLE),
                false,
                false);
    }

    /** Whether {@code keyrings=} and {@code func=KEY_CHECK} exist (CONFIG_IMA_MEASURE_ASYMMETRIC_KEYS). */
    public boolean asymmetricKeys() {
        return funcs.contains(Func.KEY_CHECK);
    }

    public KernelProfile withFuncs(Set<Func> value) {
        return new KernelProfile(value, modsig, implicitBlacklist, suffixComments, hashAlgoNames,
                hashAlgosAvailable, lsmRules, writePolicy, appraiseSignedInit);
    }

    public KernelProfile withModsig(boolean value) {
        return new KernelProfile(funcs, value, implicitBlacklist, suffixComments, hashAlgoNames,
                hashAlgosAvailable, lsmRules, writePolicy, appraiseSignedInit);
    }

    public KernelProfile withLsmRules(Set<LsmKey> value) {
        return new KernelProfile(funcs, modsig, implicitBlacklist, suffixComments, hashAlgoNames,
                hashAlgosAvailable, value, writePolicy, appraiseSignedInit);
    }

    public KernelProfile withAppraiseTcbOptions(boolean writePolicyValue, boolean appraiseSignedInitValue) {
        return new KernelProfile(funcs, modsig, implicitBlacklist, suffixComments, hashAlgoNames,
                hashAlgosAvailable, lsmRules, writePolicyValue, appraiseSignedInitValue);
    }

    private static <E extends Enum<E>> Set<E> copy(Set<E> set, Class<E> type) {
        return Collections.unmodifiableSet(set.isEmpty() ? EnumSet.noneOf(type) : EnumSet.copyOf(set));
    }
}
