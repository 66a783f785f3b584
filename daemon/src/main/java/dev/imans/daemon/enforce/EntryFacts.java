package dev.imans.daemon.enforce;

import dev.imans.appraise.FileDigests;
import dev.imans.crypto.HashAlgo;
import dev.imans.linux.LinuxException;
import dev.imans.linux.Xattr;
import dev.imans.measure.CollectedDigest;
import dev.imans.measure.EventData;
import dev.imans.measure.Field;
import dev.imans.measure.MeasuredDigest;
import dev.imans.measure.ProtectedXattr;
import dev.imans.measure.Template;
import dev.imans.policy.KernelProfile;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The facts of one file measurement, read through the event's descriptor as Linux 6.1 reads them for
 * process_measurement (ima_main.c) and the template fields (ima_template_lib.c): the digest in the
 * algorithm {@code security.ima} names ({@link CollectedDigest}), the values the {@code sig},
 * {@code evmsig} and {@code xattr*} fields record, and the inode's owner and mode. Only what the template
 * shows is read, once per file version and scope.
 */
final class EntryFacts {
    private static final Set<HashAlgo> KERNEL_ALGOS = KernelProfile.defaults().hashAlgoNames();
    private static final Set<HashAlgo> KERNEL_CRYPTO = KernelProfile.defaults().hashAlgosAvailable();

    private EntryFacts() {}

    /**
     * Whether the digest in {@code algo} can be had: the kernel's crypto must provide it (otherwise
     * ima_collect_measurement fails and the kernel records no entry), and this JDK must compute it (md4,
     * wp*, sm3 and streebog the kernel would hash; imans cannot, and records nothing rather than a guess).
     */
    static boolean computable(HashAlgo algo) {
        return KERNEL_CRYPTO.contains(algo) && algo.isSupported();
    }

    /**
     * The algorithm of the file's digest for {@code template}: what the kernel's measurement, and its
     * {@code audit} rule record, report.
     */
    static HashAlgo algo(int fd, Template template, boolean appraising, HashAlgo imaHash) {
        byte[] ima = CollectedDigest.readsImaXattr(template, appraising) ? read(fd, Xattr.SECURITY_IMA) : null;
        return CollectedDigest.algo(template, appraising, ima, imaHash, KERNEL_ALGOS);
    }

    /**
     * The event data of a file measurement, or empty when its digest cannot be computed here
     * ({@link #computable}) or the entry cannot be written (an md5 digest in the {@code ima} template,
     * which the kernel writes as 16 bytes where its list format has room for exactly 20).
     *
     * @param appraising whether the scope's matched rules appraise this access ({@code IMA_APPRAISE_SUBMASK})
     * @throws IOException when the file cannot be read through the descriptor
     */
    static Optional<EventData> file(int fd, Template template, boolean appraising, HashAlgo imaHash,
                                    FileDigests digests, byte[] name, int uid, int gid, int mode) throws IOException {
        List<Field> fields = template.fields();
        byte[] ima = CollectedDigest.readsImaXattr(template, appraising) ? read(fd, Xattr.SECURITY_IMA) : null;
        HashAlgo algo = CollectedDigest.algo(template, appraising, ima, imaHash, KERNEL_ALGOS);
        if (!computable(algo)) {
            return Optional.empty();
        }
        EventData.Builder b = EventData.file("", new MeasuredDigest(algo, digests.digest(algo))).name(name);
        if (fields.contains(Field.D)) {
            HashAlgo d = CollectedDigest.dFieldAlgo(algo, imaHash);
            if (template.isIma() && d == HashAlgo.MD5) {
                return Optional.empty();
            }
            if (d != algo) {
                b.sha1Digest(new MeasuredDigest(d, digests.digest(d)));
            }
        }
        boolean sig = fields.contains(Field.SIG);
        b.imaXattr(ima);
        // ima_eventsig_init falls back to ima_eventevmsig_init when security.ima holds no signature.
        if (fields.contains(Field.EVMSIG) || sig && !imaSignature(ima)) {
            b.evmXattr(read(fd, Xattr.SECURITY_EVM));
        }
        if (fields.contains(Field.XATTRNAMES) || fields.contains(Field.XATTRLENGTHS)
                || fields.contains(Field.XATTRVALUES)) {
            b.xattrs(protectedXattrs(fd));
        }
        return Optional.of(b.owner(uid, gid).mode(mode & 0xffff).build());
    }

    /**
     * The event data of a violation (ima_add_violation in ima_api.c): zero digests, but the file is
     * there, so {@code sig} shows a portable signature in {@code security.evm} (no {@code security.ima} is
     * read), and the {@code evm-sig} fields are the file's.
     */
    static EventData violation(int fd, Template template, byte[] name, int uid, int gid, int mode) {
        List<Field> fields = template.fields();
        EventData.Builder b = EventData.violation("").name(name);
        if (fields.contains(Field.SIG) || fields.contains(Field.EVMSIG)) {
            b.evmXattr(read(fd, Xattr.SECURITY_EVM));
        }
        if (fields.contains(Field.XATTRNAMES) || fields.contains(Field.XATTRLENGTHS)
                || fields.contains(Field.XATTRVALUES)) {
            b.xattrs(protectedXattrs(fd));
        }
        return b.owner(uid, gid).mode(mode & 0xffff).build();
    }

    /** EVM_IMA_XATTR_DIGSIG or IMA_VERITY_DIGSIG: the values ima_eventsig_init records itself. */
    private static boolean imaSignature(byte[] ima) {
        return ima != null && ima.length > 0 && (ima[0] == 0x03 || ima[0] == 0x06);
    }

    /**
     * An attribute as vfs_getxattr_alloc gives it to the template code: null when absent, and null on
     * any error, where the kernel's callers go on without the value (ima_read_xattr treats EOPNOTSUPP as
     * no value; ima_eventevmsig_init records nothing for rc &lt;= 0).
     */
    private static byte[] read(int fd, String name) {
        try {
            return Xattr.get(fd, name).orElse(null);
        } catch (LinuxException e) {
            return null;
        }
    }

    /**
     * evm_read_protected_xattrs (security/integrity/evm/evm_main.c): each of EVM's names present on the
     * file, in EVM's order. An error other than "absent" makes the kernel leave the three fields empty.
     */
    static List<ProtectedXattr> protectedXattrs(int fd) {
        try {
            List<String> present = Xattr.list(fd);
            List<ProtectedXattr> out = new ArrayList<>(present.size());
            for (String name : ProtectedXattr.EVM_NAMES) {
                if (present.contains(name)) {
                    Optional<byte[]> v = Xattr.get(fd, name);
                    v.ifPresent(value -> out.add(new ProtectedXattr(name, value)));
                }
            }
            return out;
        } catch (LinuxException e) {
            return List.of();
        }
    }
}
