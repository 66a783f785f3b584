package dev.imans.measure;

import dev.imans.crypto.HashAlgo;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * One measurement list entry ({@code struct ima_template_entry}): the PCR it extends, its
 * template, the bytes of each template field, and whether it records a violation. Immutable;
 * template digests are computed on first use and kept (safe to share between threads).
 */
public final class MeasurementEntry {
    private final int pcr;
    private final Template template;
    private final byte[][] fields;
    private final boolean violation;
    private final AtomicReferenceArray<byte[]> digests =
            new AtomicReferenceArray<>(HashAlgo.values().length);

    private MeasurementEntry(int pcr, Template template, List<byte[]> fields, boolean violation) {
        Objects.requireNonNull(template, "template");
        if (pcr < 0 || pcr >= PcrBank.PCR_COUNT) {
            throw new IllegalArgumentException("PCR index " + pcr + " out of range 0-" + (PcrBank.PCR_COUNT - 1));
        }
        if (fields.size() != template.fields().size()) {
            throw new IllegalArgumentException("template " + template.name() + " has "
                    + template.fields().size() + " fields, got " + fields.size());
        }
        this.pcr = pcr;
        this.template = template;
        this.fields = new byte[fields.size()][];
        for (int i = 0; i < fields.size(); i++) {
            this.fields[i] = fields.get(i).clone();
        }
        this.violation = violation;
        if (template.isIma()) {
            // The binary form has room for exactly 20 digest bytes and a name of at most 255.
            if (this.fields[0].length != Field.D_DIGEST_SIZE) {
                throw new IllegalArgumentException("ima template: field d must be 20 bytes, got " + this.fields[0].length);
            }
            if (this.fields[1].length == 0 || this.fields[1].length > Field.EVENT_NAME_LEN_MAX + 1
                    || DataFormat.indexOf(this.fields[1], (byte) 0) != this.fields[1].length - 1) {
                throw new IllegalArgumentException("ima template: field n must be a NUL-terminated name of at most 255 bytes");
            }
        }
    }

    /** An entry from field bytes as read from a list. */
    public static MeasurementEntry of(int pcr, Template template, List<byte[]> fields, boolean violation) {
        return new MeasurementEntry(pcr, template, fields, violation);
    }

    /** An entry made from facts, as {@code ima_alloc_init_template()} does. */
    public static MeasurementEntry create(int pcr, Template template, EventData ev, HashAlgo imaHash) {
        List<byte[]> data = new ArrayList<>(template.fields().size());
        for (Field f : template.fields()) {
            data.add(f.encode(ev, imaHash));
        }
        return new MeasurementEntry(pcr, template, data, ev.violation());
    }

    public int pcr() {
        return pcr;
    }

    public Template template() {
        return template;
    }

    public boolean isViolation() {
        return violation;
    }

    public int fieldCount() {
        return fields.length;
    }

    /** A copy of field {@code i}'s bytes. */
    public byte[] field(int i) {
        return fields[i].clone();
    }

    int fieldLength(int i) {
        return fields[i].length;
    }

    byte[] fieldUnsafe(int i) {
        return fields[i];
    }

    /** The field list's {@code template_data_len}: Σ (4 + len). */
    public int templateDataLength() {
        int n = 0;
        for (byte[] f : fields) {
            n += 4 + f.length;
        }
        return n;
    }

    /**
     * The bytes the template digest is computed over (ima_calc_field_array_hash in ima_crypto.c):
     * for every template but {@code ima}, each field as {@code u32 len (LE) ‖ data}; for
     * {@code ima}, {@code d ‖ n} with the name in a zero-filled 256-byte buffer and no lengths.
     */
    public byte[] hashedData() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(templateDataLength());
        if (template.isIma()) {
            out.writeBytes(fields[0]);
            out.writeBytes(Arrays.copyOf(fields[1], Field.EVENT_NAME_LEN_MAX + 1));
            return out.toByteArray();
        }
        ByteBuffer len = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
        for (byte[] f : fields) {
            out.writeBytes(len.putInt(0, f.length).array());
            out.writeBytes(f);
        }
        return out.toByteArray();
    }

    /**
     * The template digest in {@code bank}, as the list stores it: all zeros for a violation,
     * else the bank's hash over {@link #hashedData()}.
     */
    public byte[] digest(HashAlgo bank) {
        if (violation) {
            return new byte[bank.digestSize()];
        }
        byte[] d = digests.get(bank.id());
        if (d == null) {
            d = bank.newDigest().digest(hashedData());
            digests.compareAndSet(bank.id(), null, d);
        }
        return d.clone();
    }

    /**
     * The SHA-1 template digest zero-padded (or cut) to {@code bank}'s size: what kernels before
     * 5.8 extended into every bank, and what TPM banks the kernel cannot hash get.
     */
    public byte[] paddedSha1Digest(HashAlgo bank) {
        return Arrays.copyOf(digest(HashAlgo.SHA1), bank.digestSize());
    }

    /** What the kernel extends into {@code bank} for this entry (ima_queue.c): 0xff… for violations. */
    public byte[] extendDigest(HashAlgo bank) {
        if (violation) {
            byte[] ff = new byte[bank.digestSize()];
            Arrays.fill(ff, (byte) 0xff);
            return ff;
        }
        return digest(bank);
    }

    /** The padded-SHA-1 variant of {@link #extendDigest}: violations are 20×0xff then zeros. */
    public byte[] extendPaddedSha1Digest(HashAlgo bank) {
        if (violation) {
            byte[] ff = new byte[bank.digestSize()];
            Arrays.fill(ff, 0, Math.min(HashAlgo.SHA1.digestSize(), ff.length), (byte) 0xff);
            return ff;
        }
        return paddedSha1Digest(bank);
    }

    /** The event name (the {@code n}/{@code n-ng} field up to its NUL), or empty if the template has none. */
    public String eventName() {
        for (int i = 0; i < fields.length; i++) {
            Field f = template.fields().get(i);
            if (f == Field.N || f == Field.N_NG) {
                int nul = DataFormat.indexOf(fields[i], (byte) 0);
                return new String(fields[i], 0, nul < 0 ? fields[i].length : nul,
                        java.nio.charset.StandardCharsets.UTF_8);
            }
        }
        return "";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MeasurementEntry e && e.pcr == pcr && e.violation == violation
                && e.template.equals(template) && Arrays.deepEquals(e.fields, fields);
    }

    @Override
    public int hashCode() {
        return Objects.hash(pcr, template, violation) * 31 + Arrays.deepHashCode(fields);
    }

    @Override
    public String toString() {
        return "MeasurementEntry[pcr=" + pcr + ", template=" + template.name()
                + (violation ? ", violation" : "") + ", name=" + eventName() + "]";
    }
}
