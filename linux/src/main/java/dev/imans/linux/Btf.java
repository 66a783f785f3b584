package dev.imans.linux;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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

    /** One type: its kind, name, the size or referenced type, and where its trailing data starts. */
    private record Type(int kind, String name, int sizeOrType, int vlen, boolean kindFlag, int extra) {}

    private final ByteBuffer types;
    private final ByteBuffer strings;
    private final List<Type> byId = new ArrayList<>();
    private final Map<String, List<Integer>> byName = new HashMap<>();

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
        byId.add(null); // type id 0 is void
        int p = 0;
        while (p < typeLen) {
            int nameOff = types.getInt(p);
            int info = types.getInt(p + 4);
            int sizeOrType = types.getInt(p + 8);
            int kind = (info >>> 24) & 0x1f;
            int vlen = info & 0xffff;
            boolean kindFlag = info < 0;
            int extra = p + 12;
            String name = string(strings, nameOff);
            byId.add(new Type(kind, name, sizeOrType, vlen, kindFlag, extra));
            if (!name.isEmpty()) {
                byName.computeIfAbsent(name, k -> new ArrayList<>(1)).add(byId.size() - 1);
            }
            p = extra + trailing(kind, vlen);
        }
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

    private static String string(ByteBuffer strings, int off) {
        int end = off;
        while (end < strings.limit() && strings.get(end) != 0) {
            end++;
        }
        byte[] s = new byte[end - off];
        strings.get(off, s);
        return new String(s, StandardCharsets.UTF_8);
    }

    /** The id of the function (BTF_KIND_FUNC) named {@code name}, as {@code attach_btf_id} wants it. */
    public Optional<Integer> function(String name) {
        for (int id : byName.getOrDefault(name, List.of())) {
            if (byId.get(id).kind == KIND_FUNC) {
                return Optional.of(id);
            }
        }
        return Optional.empty();
    }

    /**
     * The id of the typedef named {@code name}: a BTF-typed tracepoint ({@code tp_btf}) is attached
     * through its {@code btf_trace_<event>} typedef.
     */
    public Optional<Integer> typedef(String name) {
        for (int id : byName.getOrDefault(name, List.of())) {
            if (byId.get(id).kind == KIND_TYPEDEF) {
                return Optional.of(id);
            }
        }
        return Optional.empty();
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

    private int struct(String name) throws IOException {
        for (int id : byName.getOrDefault(name, List.of())) {
            Type t = byId.get(id);
            if (t.kind == KIND_STRUCT && t.vlen > 0) {
                return id;
            }
        }
        throw new IOException("this kernel's BTF has no struct " + name);
    }

    /** {byte offset, type id} of the direct or anonymous-nested member {@code name} of type {@code id}. */
    private long[] member(int id, String name) throws IOException {
        Type t = byId.get(resolve(id));
        if (t.kind != KIND_STRUCT && t.kind != KIND_UNION) {
            return null;
        }
        for (int i = 0; i < t.vlen; i++) {
            int at = t.extra + 12 * i;
            String mName = string(strings, types.getInt(at));
            int mType = types.getInt(at + 4);
            int rawOffset = types.getInt(at + 8);
            int bitOffset = t.kindFlag ? rawOffset & 0xffffff : rawOffset;
            int bitSize = t.kindFlag ? rawOffset >>> 24 : 0;
            if (mName.equals(name)) {
                if (bitSize != 0 || bitOffset % 8 != 0) {
                    throw new IOException("member " + name + " is a bit field");
                }
                return new long[] {bitOffset / 8, mType};
            }
            if (mName.isEmpty()) {
                long[] inner = member(mType, name);
                if (inner != null) {
                    return new long[] {bitOffset / 8 + inner[0], inner[1]};
                }
            }
        }
        return null;
    }

    private int resolve(int id) {
        Type t = byId.get(id);
        while (t != null && (t.kind == KIND_TYPEDEF || t.kind == KIND_VOLATILE || t.kind == KIND_CONST
                || t.kind == KIND_RESTRICT || t.kind == KIND_TYPE_TAG)) {
            id = t.sizeOrType;
            t = byId.get(id);
        }
        return id;
    }

    private int sizeOf(int id) throws IOException {
        Type t = byId.get(resolve(id));
        if (t == null) {
            throw new IOException("void has no size");
        }
        return switch (t.kind) {
            case KIND_PTR -> 8;
            case KIND_INT, KIND_ENUM, KIND_ENUM64, KIND_STRUCT, KIND_UNION, KIND_FLOAT -> t.sizeOrType;
            default -> throw new IOException("no size for BTF kind " + t.kind);
        };
    }
}
