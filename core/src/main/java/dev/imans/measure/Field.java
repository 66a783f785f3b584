package dev.imans.measure;

import dev.imans.crypto.HashAlgo;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Optional;

/**
 * The template fields the kernel supports: {@code supported_fields[]} in
 * security/integrity/ima/ima_template.c, with the encoders of ima_template_lib.c. Each constant
 * is one codec: its id, how its bytes are made from {@link EventData}, and how they are shown
 * ({@link DataFormat}). Integers are little-endian (the kernel's canonical format, and native on
 * x86 and arm64).
 */
public enum Field {
    D("d", DataFormat.DIGEST),
    D_NG("d-ng", DataFormat.DIGEST_WITH_ALGO),
    D_NGV2("d-ngv2", DataFormat.DIGEST_WITH_TYPE_AND_ALGO),
    D_MODSIG("d-modsig", DataFormat.DIGEST_WITH_ALGO),
    N("n", DataFormat.STRING),
    N_NG("n-ng", DataFormat.STRING),
    SIG("sig", DataFormat.HEX),
    EVMSIG("evmsig", DataFormat.HEX),
    BUF("buf", DataFormat.HEX),
    MODSIG("modsig", DataFormat.HEX),
    IUID("iuid", DataFormat.UINT),
    IGID("igid", DataFormat.UINT),
    IMODE("imode", DataFormat.UINT),
    // Written as DATA_FMT_HEX (no '_' for spaces) but shown with ima_show_template_string.
    XATTRNAMES("xattrnames", DataFormat.STRING),
    XATTRLENGTHS("xattrlengths", DataFormat.HEX),
    XATTRVALUES("xattrvalues", DataFormat.HEX);

    /** IMA_EVENT_NAME_LEN_MAX (security/integrity/ima/ima.h): the {@code n} field's limit. */
    public static final int EVENT_NAME_LEN_MAX = 255;
    /** IMA_DIGEST_SIZE: the {@code d} field's digest size (SHA-1). */
    public static final int D_DIGEST_SIZE = 20;

    // EVM_IMA_XATTR_DIGSIG, IMA_VERITY_DIGSIG, EVM_XATTR_PORTABLE_DIGSIG (security/integrity/integrity.h)
    private static final byte EVM_IMA_XATTR_DIGSIG = 0x03;
    private static final byte EVM_XATTR_PORTABLE_DIGSIG = 0x05;
    private static final byte IMA_VERITY_DIGSIG = 0x06;

    private final String id;
    private final DataFormat format;

    Field(String id, DataFormat format) {
        this.id = id;
        this.format = format;
    }

    /** The field id as written in template formats ({@code d-ng}). */
    public String id() {
        return id;
    }

    public DataFormat format() {
        return format;
    }

    public static Optional<Field> byId(String id) {
        for (Field f : values()) {
            if (f.id.equals(id)) {
                return Optional.of(f);
            }
        }
        return Optional.empty();
    }

    /** The width of a {@link DataFormat#UINT} field as the kernel writes it. */
    int uintWidth() {
        return this == IMODE ? 2 : 4;
    }

    /**
     * The field's bytes for {@code ev}, as the kernel's {@code field_init} makes them.
     *
     * @param imaHash the list's hash algorithm ({@code ima_hash=}): violations of {@code d-ng}
     *                and {@code d-ngv2} record zeros of its size under its name
     * @throws IllegalArgumentException when the facts do not allow the field (e.g. {@code d} with
     *                                  a SHA-256 digest and no SHA-1 digest given)
     */
    public byte[] encode(EventData ev, HashAlgo imaHash) {
        return switch (this) {
            case D -> encodeD(ev);
            case D_NG -> ev.violation()
                    ? withPrefix(imaHash.kernelName() + ":", new byte[imaHash.digestSize()])
                    : withPrefix(ev.digest().algo().kernelName() + ":", ev.digest().value());
            case D_NGV2 -> ev.violation()
                    ? withPrefix("ima:" + imaHash.kernelName() + ":", new byte[imaHash.digestSize()])
                    : withPrefix((ev.verity() ? "verity:" : "ima:") + ev.digest().algo().kernelName() + ":",
                            ev.digest().value());
            case D_MODSIG -> {
                if (ev.modsig() == null) {
                    yield new byte[0];
                }
                if (ev.violation()) {
                    yield withPrefix("sha1:", new byte[HashAlgo.SHA1.digestSize()]);
                }
                if (ev.modsigDigest() == null) {
                    throw new IllegalArgumentException("d-modsig needs the digest of the file without its appended signature");
                }
                yield withPrefix(ev.modsigDigest().algo().kernelName() + ":", ev.modsigDigest().value());
            }
            case N -> string(truncatedName(ev.name()));
            case N_NG -> string(ev.name());
            case SIG -> {
                byte[] x = ev.imaXattr();
                if (x != null && x.length > 0 && (x[0] == EVM_IMA_XATTR_DIGSIG || x[0] == IMA_VERITY_DIGSIG)) {
                    yield x.clone();
                }
                yield EVMSIG.encode(ev, imaHash);
            }
            case EVMSIG -> {
                byte[] x = ev.evmXattr();
                yield x != null && x.length > 0 && x[0] == EVM_XATTR_PORTABLE_DIGSIG ? x.clone() : new byte[0];
            }
            case BUF -> ev.buf() == null ? new byte[0] : ev.buf().clone();
            case MODSIG -> ev.modsig() == null ? new byte[0] : ev.modsig().clone();
            case IUID -> ev.uid() == null ? new byte[0] : le32(ev.uid());
            case IGID -> ev.gid() == null ? new byte[0] : le32(ev.gid());
            case IMODE -> ev.mode() == null ? new byte[0]
                    : ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN).putShort((short) (int) ev.mode()).array();
            case XATTRNAMES -> xattrNames(ev);
            case XATTRLENGTHS -> {
                ByteBuffer b = ByteBuffer.allocate(4 * ev.xattrs().size()).order(ByteOrder.LITTLE_ENDIAN);
                ev.xattrs().forEach(x -> b.putInt(x.value().length));
                yield b.array();
            }
            case XATTRVALUES -> {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                ev.xattrs().forEach(x -> out.writeBytes(x.value()));
                yield out.toByteArray();
            }
        };
    }

    /** Appends the ascii form (never called for an empty field). */
    void appendAscii(byte[] data, ByteArrayOutputStream out) {
        format.appendAscii(data, out);
    }

    private static byte[] encodeD(EventData ev) {
        if (ev.violation()) {
            return new byte[D_DIGEST_SIZE];
        }
        // ima_template_hash_algo_allowed(): only MD5 and SHA-1 fit the old 20-byte field.
        for (MeasuredDigest d : new MeasuredDigest[] {ev.digest(), ev.sha1Digest()}) {
            if (d != null && (d.algo() == HashAlgo.SHA1 || d.algo() == HashAlgo.MD5)) {
                return d.value();
            }
        }
        throw new IllegalArgumentException("template field d needs a sha1 or md5 digest; the event has "
                + ev.digest().algo() + " (give a sha1 digest too)");
    }

    private static byte[] truncatedName(byte[] name) {
        if (name.length <= EVENT_NAME_LEN_MAX) {
            return name;
        }
        // The kernel falls back to the dentry name (the last path component) of the file.
        int slash = name.length - 1;
        while (slash >= 0 && name[slash] != '/') {
            slash--;
        }
        byte[] base = Arrays.copyOfRange(name, slash + 1, name.length);
        return base.length <= EVENT_NAME_LEN_MAX ? base : Arrays.copyOf(base, EVENT_NAME_LEN_MAX);
    }

    /** DATA_FMT_STRING: the bytes, spaces replaced by '_', and a NUL. */
    static byte[] string(byte[] s) {
        byte[] out = Arrays.copyOf(s, s.length + 1);
        for (int i = 0; i < s.length; i++) {
            if (out[i] == ' ') {
                out[i] = '_';
            }
        }
        return out;
    }

    private static byte[] withPrefix(String prefix, byte[] digest) {
        byte[] p = prefix.getBytes(StandardCharsets.US_ASCII);
        byte[] out = new byte[p.length + 1 + digest.length];
        System.arraycopy(p, 0, out, 0, p.length);
        System.arraycopy(digest, 0, out, p.length + 1, digest.length);
        return out;
    }

    private static byte[] le32(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
    }

    private static byte[] xattrNames(EventData ev) {
        // evm_read_protected_xattrs(): names joined by '|', the last one keeps its NUL.
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (ProtectedXattr x : ev.xattrs()) {
            if (out.size() > 0) {
                out.write('|');
            }
            out.writeBytes(x.name().getBytes(StandardCharsets.UTF_8));
        }
        if (!ev.xattrs().isEmpty()) {
            out.write(0);
        }
        return out.toByteArray();
    }
}
