package dev.imans.measure;

import dev.imans.crypto.HashAlgo;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;

/**
 * The facts one measurement is made of, like the kernel's {@code struct ima_event_data}: what the
 * template fields are encoded from ({@link Field#encode}). Absent facts are null and give empty
 * fields, as in the kernel when there is no file, xattr or buffer.
 *
 * @param digest        the file (or buffer) digest; null for a violation
 * @param sha1Digest    a SHA-1 (or MD5) digest for the {@code d} field when {@code digest} has
 *                      another algorithm (the kernel re-hashes the file with SHA-1 there)
 * @param verity        whether the digest is an fs-verity digest ({@code d-ngv2} type "verity")
 * @param name          the event name (path, {@code boot_aggregate}, buffer name), raw bytes
 * @param imaXattr      the {@code security.ima} value as read
 * @param evmXattr      the {@code security.evm} value as read
 * @param buf           the measured buffer ({@code ima-buf})
 * @param modsig        the raw appended signature
 * @param modsigDigest  the digest of the file without its appended signature
 * @param uid           inode owner, {@code iuid}
 * @param gid           inode group, {@code igid}
 * @param mode          inode mode, {@code imode}
 * @param xattrs        EVM-protected xattrs present on the file, in EVM's order
 * @param violation     whether this records a violation (ToMToU, open_writers)
 */
public record EventData(
        MeasuredDigest digest,
        MeasuredDigest sha1Digest,
        boolean verity,
        byte[] name,
        byte[] imaXattr,
        byte[] evmXattr,
        byte[] buf,
        byte[] modsig,
        MeasuredDigest modsigDigest,
        Integer uid,
        Integer gid,
        Integer mode,
        List<ProtectedXattr> xattrs,
        boolean violation) {

    /** The kernel's {@code boot_aggregate_name}. */
    public static final String BOOT_AGGREGATE_NAME = "boot_aggregate";

    public EventData {
        Objects.requireNonNull(name, "name");
        name = name.clone();
        xattrs = xattrs == null ? List.of() : List.copyOf(xattrs);
        if (!violation && digest == null) {
            throw new IllegalArgumentException("a measurement needs a digest (only violations have none)");
        }
    }

    /** A file measured with {@code digest}, named by its path. */
    public static Builder file(String path, MeasuredDigest digest) {
        return new Builder(path.getBytes(StandardCharsets.UTF_8), digest, false);
    }

    /** A violation on {@code path}: its digests are recorded as zeros. */
    public static Builder violation(String path) {
        return new Builder(path.getBytes(StandardCharsets.UTF_8), null, true);
    }

    /** A buffer measurement ({@code ima-buf}): the digest of {@code buffer}, named {@code name}. */
    public static Builder buffer(String name, MeasuredDigest digest, byte[] buffer) {
        return new Builder(name.getBytes(StandardCharsets.UTF_8), digest, false).buf(buffer);
    }

    /** Builds event data; the record's canonical constructor checks the result. */
    public static final class Builder {
        private MeasuredDigest digest;
        private MeasuredDigest sha1Digest;
        private boolean verity;
        private byte[] name;
        private byte[] imaXattr;
        private byte[] evmXattr;
        private byte[] buf;
        private byte[] modsig;
        private MeasuredDigest modsigDigest;
        private Integer uid;
        private Integer gid;
        private Integer mode;
        private List<ProtectedXattr> xattrs = List.of();
        private final boolean violation;

        Builder(byte[] name, MeasuredDigest digest, boolean violation) {
            this.name = name;
            this.digest = digest;
            this.violation = violation;
        }

        public Builder name(byte[] rawName) { this.name = rawName.clone(); return this; }
        public Builder sha1Digest(MeasuredDigest d) { this.sha1Digest = d; return this; }
        public Builder verity(boolean v) { this.verity = v; return this; }
        public Builder imaXattr(byte[] v) { this.imaXattr = v == null ? null : v.clone(); return this; }
        public Builder evmXattr(byte[] v) { this.evmXattr = v == null ? null : v.clone(); return this; }
        public Builder buf(byte[] v) { this.buf = v == null ? null : v.clone(); return this; }
        public Builder modsig(byte[] sig, MeasuredDigest digestWithoutSig) {
            this.modsig = sig == null ? null : sig.clone();
            this.modsigDigest = digestWithoutSig;
            return this;
        }
        public Builder owner(int uid, int gid) { this.uid = uid; this.gid = gid; return this; }
        public Builder mode(int mode) { this.mode = mode; return this; }
        public Builder xattrs(List<ProtectedXattr> x) { this.xattrs = List.copyOf(x); return this; }

        public EventData build() {
            return new EventData(digest, sha1Digest, verity, name, imaXattr, evmXattr, buf, modsig,
                    modsigDigest, uid, gid, mode, xattrs, violation);
        }
    }
}
