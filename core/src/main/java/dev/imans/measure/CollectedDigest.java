package dev.imans.measure;

import dev.imans.crypto.HashAlgo;
import dev.imans.xattr.ImaXattr;
import java.util.Set;

/**
 * Which algorithm the kernel hashes a measured file with, as Linux 6.1 decides it. The kernel keeps one
 * digest per file ({@code iint->ima_hash}) and every digest field of the entry is made from it:
 *
 * <ol>
 * <li>process_measurement (security/integrity/ima/ima_main.c) reads {@code security.ima} only "if
 *     ((action &amp; IMA_APPRAISE_SUBMASK) || strcmp(template_desc-&gt;name, IMA_TEMPLATE_IMA_NAME) != 0)";</li>
 * <li>ima_get_hash_algo (ima_appraise.c) names the algorithm of that value when its algorithm byte is one
 *     of the kernel's ({@code &lt; HASH_ALGO__LAST}), whether or not the value is right, and {@code ima_hash}
 *     otherwise (no value, too short, a bad signature header, an unknown byte);</li>
 * <li>ima_collect_measurement (ima_api.c) hashes the file with it, so {@code d-ng} is
 *     {@code "<that algorithm>:" digest} (ima_eventdigest_ng_init, ima_template_lib.c);</li>
 * <li>the 20-byte {@code d} field (ima_eventdigest_init) takes that digest when it is sha1 or md5, and
 *     otherwise hashes the file again with {@code ima_hash} if that is sha1 or md5, else with sha1.</li>
 * </ol>
 */
public final class CollectedDigest {
    private CollectedDigest() {}

    /** Whether the kernel reads {@code security.ima} for this measurement (step 1). */
    public static boolean readsImaXattr(Template template, boolean appraising) {
        return appraising || !template.isIma();
    }

    /**
     * The algorithm of the file's digest (steps 1 and 2).
     *
     * @param appraising  whether the rules that matched the access appraise it ({@code IMA_APPRAISE_SUBMASK})
     * @param imaXattr    {@code security.ima} as read, null when absent or unreadable
     * @param imaHash     the {@code ima_hash=} algorithm
     * @param kernelAlgos the kernel's {@code enum hash_algo} (6.1 ends at streebog512): a byte past it is
     *                    no algorithm
     */
    public static HashAlgo algo(Template template, boolean appraising, byte[] imaXattr, HashAlgo imaHash,
                                Set<HashAlgo> kernelAlgos) {
        if (imaXattr == null || !readsImaXattr(template, appraising)) {
            return imaHash;
        }
        return ImaXattr.kernelHashAlgo(imaXattr, imaHash, kernelAlgos);
    }

    /** The algorithm of the {@code d} field's digest (step 4). */
    public static HashAlgo dFieldAlgo(HashAlgo collected, HashAlgo imaHash) {
        if (shortDigest(collected)) {
            return collected;
        }
        return shortDigest(imaHash) ? imaHash : HashAlgo.SHA1;
    }

    /** ima_template_hash_algo_allowed (ima_template_lib.c): the algorithms whose digest fits {@code d}. */
    private static boolean shortDigest(HashAlgo a) {
        return a == HashAlgo.SHA1 || a == HashAlgo.MD5;
    }
}
