package dev.imans.linux;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The running kernel's type information ({@code /sys/kernel/btf/vmlinux}, BTF format,
 * Documentation/bpf/btf.rst): what a BPF program loaded without a compiler needs, the id of the
 * function it attaches to and the byte offsets of the structure members it reads. Offsets are read from
 * the kernel itself rather than assumed, so one program fits every kernel build (what libbpf's CO-RE
 * relocations do).
 */
public final class Btf {
    public static final Path VMLINUX = Path.of("/sys/kernel/btf/vmlinux");

    static final int KIND_INT = 1;
    static final int KIND_PTR = 2;
    static final int KIND_ARRAY = 3;
    static final int KIND_STRUCT = 4;
    static final int KIND_UNION = 5;
    static final int KIND_ENUM = 6;
    static final int KIND_FWD = 7;
    static final int KIND_TYPEDEF = 8;
    static final int KIND_VOLATILE = 9;
    static final int KIND_CONST = 10;
    static final int KIND_RESTRICT = 11;
    static final int KIND_FUNC = 12;
    static final int KIND_FUNC_PROTO = 13;
    static final int KIND_VAR = 14;
    static final int KIND_DATASEC = 15;
    static final int KIND_FLOAT = 16;
    static final int KIND_DECL_TAG = 17;
    static final int KIND_TYPE_TAG = 18;
    static final int KIND_ENUM64 = 19;

    private final ByteBuffer types;
    private final ByteBuffer strings;
    /**
     * Where each type starts in {@link #types}, by id (0, void, has none). Names are compared in place
     * when looked up: a kernel has over 100,000 types and a lookup needs a handful, so no string or
     * record is made per type (the daemon's heap would keep the growth).
     */
    private final int[] at;

    private Btf(ByteBuffer data) throws IOException {
        ByteBuffer b = data.order(ByteOrder.LITTLE_ENDIAN);
        if (b.remaining() < 24 || (b.getShort(0) & 0xffff) != 0xeb9f) {
            throw new IOException("not BTF (magic " + (b.remaining() < 2 ? "missing" : Integer.toHexString(b.getShort(0) & 0xffff)) + ")");
        }
        int hdrLen = b.getInt(4);
        int typeOff = b.getInt(8);
        int typeLen = b.getInt(12);
        int strOff = b.getInt(16);
        int strLen = b.getInt(20);
        types = b.slice(hdrLen + typeOff, typeLen).order(ByteOrder.LITTLE_ENDIAN);
        strings = b.slice(hdrLen + strOff, strLen);
        int[] offsets = new int[1 + typeLen / 12];
        int n = 1;
        int p = 0;
        while (p < typeLen) {
            offsets[n++] = p;
            int info = types.getInt(p + 4);
            p += 12 + trailing((info >>> 24) & 0x1f, info & 0xffff);
        }
        at = java.util.Arrays.copyOf(offsets, n);
    }

    private int kind(int id) {
        return (types.getInt(at[id] + 4) >>> 24) & 0x1f;
    }

    private int vlen(int id) {
        return types.getInt(at[id] + 4) & 0xffff;
    }

    private boolean kindFlag(int id) {
        return types.getInt(at[id] + 4) < 0;
    }

    private int sizeOrType(int id) {
        return types.getInt(at[id] + 8);
    }

    /** Where the type's kind-specific data (members, parameters) starts. */
    private int extra(int id) {
        return at[id] + 12;
    }

    /** Whether the string at {@code off} is {@code name} (ASCII, as every kernel identifier is). */
    private boolean named(int off, String name) {
        if (off + name.length() >= strings.limit()) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            if (strings.get(off + i) != name.charAt(i)) {
                return false;
            }
        }
        return strings.get(off + name.length()) == 0;
    }

    /** The first type of {@code kind} named {@code name} (with members, for a structure), or -1. */
    private int find(int kind, String name) {
        for (int id = 1; id < at.length; id++) {
            if (kind(id) == kind && named(types.getInt(at[id]), name) && (kind != KIND_STRUCT || vlen(id) > 0)) {
                return id;
            }
        }
        return -1;
    }

    /** The running kernel's BTF. */
    public static Btf vmlinux() throws IOException {
        return parse(Files.readAllBytes(VMLINUX));
    }

    public static Btf parse(byte[] data) throws IOException {
        try {
            return new Btf(ByteBuffer.wrap(data));
        } catch (IndexOutOfBoundsException e) {
            throw new IOException("truncated BTF", e);
        }
    }

    private static int trailing(int kind, int vlen) throws IOException {
        return switch (kind) {
            case KIND_INT, KIND_VAR, KIND_DECL_TAG -> 4;
            case KIND_ARRAY -> 12;
            case KIND_STRUCT, KIND_UNION, KIND_DATASEC, KIND_ENUM64 -> 12 * vlen;
            case KIND_ENUM, KIND_FUNC_PROTO -> 8 * vlen;
            case KIND_PTR, KIND_FWD, KIND_TYPEDEF, KIND_VOLATILE, KIND_CONST, KIND_RESTRICT, KIND_FUNC,
                 KIND_FLOAT, KIND_TYPE_TAG -> 0;
            default -> throw new IOException("unknown BTF kind " + kind);
        };
    }

    /** The id of the function (BTF_KIND_FUNC) named {@code name}, as {@code attach_btf_id} wants it. */
    public Optional<Integer> function(String name) {
        int id = find(KIND_FUNC, name);
        return id < 0 ? Optional.empty() : Optional.of(id);
    }

    /**
     * The id of the typedef named {@code name}: a BTF-typed tracepoint ({@code tp_btf}) is attached
     * through its {@code btf_trace_<event>} typedef.
     */
    public Optional<Integer> typedef(String name) {
        int id = find(KIND_TYPEDEF, name);
        return id < 0 ? Optional.empty() : Optional.of(id);
    }

    /**
     * The byte offset of {@code member} in {@code struct structName}; a dotted path ({@code ns.inum})
     * goes through nested structures, and members of anonymous structures and unions are found as the
     * compiler finds them.
     *
     * @throws IOException if the structure or a member is not there, or is a bit field
     */
    public long offset(String structName, String member) throws IOException {
        int id = struct(structName);
        long total = 0;
        for (String part : member.split("\\.")) {
            long[] found = member(id, part);
            if (found == null) {
                throw new IOException("struct " + structName + " has no member " + member + " in this kernel");
            }
            total += found[0];
            id = (int) found[1];
        }
        return total;
    }

    /** The size in bytes of {@code struct structName}'s member {@code member} (a scalar or pointer). */
    public int size(String structName, String member) throws IOException {
        int id = struct(structName);
        for (String part : member.split("\\.")) {
            long[] found = member(id, part);
            if (found == null) {
                throw new IOException("struct " + structName + " has no member " + member + " in this kernel");
            }
            id = (int) found[1];
        }
        return sizeOf(id);
    }

    /** Structures with members by name, made at the first lookup: one pass, where a pass per lookup cost 20. */
    private java.util.Map<String, Integer> structs;

    private int struct(String name) throws IOException {
        if (structs == null) {
            java.util.Map<String, Integer> m = new java.util.HashMap<>();
            for (int id = 1; id < at.length; id++) {
                int nameOff = types.getInt(at[id]);
                if (kind(id) == KIND_STRUCT && vlen(id) > 0 && nameOff != 0) {
                    m.putIfAbsent(string(nameOff), id);
                }
            }
            structs = m;
        }
        Integer id = structs.get(name);
        if (id == null) {
            throw new IOException("this kernel's BTF has no struct " + name);
        }
        return id;
    }

    private String string(int off) {
        int end = off;
        while (end < strings.limit() && strings.get(end) != 0) {
            end++;
        }
        byte[] b = new byte[end - off];
        strings.get(off, b);
        return new String(b, java.nio.charset.StandardCharsets.UTF_8);
    }

    /** {byte offset, type id} of the direct or anonymous-nested member {@code name} of type {@code id}. */
    private long[] member(int id, String name) throws IOException {
        int t = resolve(id);
        if (t == 0 || kind(t) != KIND_STRUCT && kind(t) != KIND_UNION) {
            return null;
        }
        for (int i = 0; i < vlen(t); i++) {
            int m = extra(t) + 12 * i;
            int mNameOff = types.getInt(m);
            int mType = types.getInt(m + 4);
            int rawOffset = types.getInt(m + 8);
            int bitOffset = kindFlag(t) ? rawOffset & 0xffffff : rawOffset;
            int bitSize = kindFlag(t) ? rawOffset >>> 24 : 0;
            if (mNameOff != 0 && named(mNameOff, name)) {
                if (bitSize != 0 || bitOffset % 8 != 0) {
                    throw new IOException("member " + name + " is a bit field");
                }
                return new long[] {bitOffset / 8, mType};
            }
            if (mNameOff == 0) {
                long[] inner = member(mType, name);
                if (inner != null) {
                    return new long[] {bitOffset / 8 + inner[0], inner[1]};
                }
            }
        }
        return null;
    }

    private int resolve(int id) {
        while (id != 0) {
            int k = kind(id);
            if (k != KIND_TYPEDEF && k != KIND_VOLATILE && k != KIND_CONST && k != KIND_RESTRICT
                    && k != KIND_TYPE_TAG) {
                break;
            }
            id = sizeOrType(id);
        }
        return id;
    }

    private int sizeOf(int id) throws IOException {
        int t = resolve(id);
        if (t == 0) {
            throw new IOException("void has no size");
        }
        return switch (kind(t)) {
            case KIND_PTR -> 8;
            case KIND_INT, KIND_ENUM, KIND_ENUM64, KIND_STRUCT, KIND_UNION, KIND_FLOAT -> sizeOrType(t);
            default -> throw new IOException("no size for BTF kind " + kind(t));
        };
    }
}
