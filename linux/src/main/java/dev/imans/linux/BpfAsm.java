package dev.imans.linux;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * An assembler for the few eBPF instructions a small LSM program needs (Documentation/bpf/standardization
 * /instruction-set.rst), with named jump targets, so the daemon carries its program as code it can read
 * rather than as an object file built by a compiler it would have to ship.
 */
public final class BpfAsm {
    public static final int R0 = 0;
    public static final int R1 = 1;
    public static final int R2 = 2;
    public static final int R3 = 3;
    public static final int R4 = 4;
    public static final int R5 = 5;
    public static final int R6 = 6;
    public static final int R7 = 7;
    public static final int R8 = 8;
    public static final int R9 = 9;
    /** The frame pointer: the 512-byte stack lies below it. */
    public static final int R10 = 10;

    private static final int LD = 0x00;
    private static final int LDX = 0x01;
    private static final int STX = 0x03;
    private static final int JMP = 0x05;
    private static final int JMP32 = 0x06;
    private static final int ALU64 = 0x07;
    private static final int MEM = 0x60;
    private static final int ATOMIC = 0xc0;
    private static final int IMM = 0x00;
    private static final int K = 0x00;
    private static final int X = 0x08;
    private static final int DW = 0x18;
    private static final int PSEUDO_MAP_FD = 1;

    /** ALU operations. */
    public static final int ADD = 0x00;
    public static final int OR = 0x40;
    public static final int AND = 0x50;
    public static final int LSH = 0x60;
    public static final int RSH = 0x70;
    public static final int MOV = 0xb0;

    /** Jump conditions. */
    public static final int JEQ = 0x10;
    public static final int JNE = 0x50;

    private record Insn(int code, int dst, int src, String target, int off, int imm) {}

    private final List<Insn> insns = new ArrayList<>();
    private final Map<String, Integer> labels = new HashMap<>();

    /** Size in bytes (1, 2, 4, 8) as a load or store's size bits. */
    private static int sizeBits(int bytes) {
        return switch (bytes) {
            case 4 -> 0x00;
            case 2 -> 0x08;
            case 1 -> 0x10;
            case 8 -> 0x18;
            default -> throw new IllegalArgumentException("no load of " + bytes + " bytes");
        };
    }

    private BpfAsm add(int code, int dst, int src, String target, int off, int imm) {
        insns.add(new Insn(code, dst, src, target, off, imm));
        return this;
    }

    /** {@code dst = *(size *)(src + off)}. */
    public BpfAsm load(int size, int dst, int src, long off) {
        return add(LDX | MEM | sizeBits(size), dst, src, null, Math.toIntExact(off), 0);
    }

    /** {@code *(size *)(dst + off) = src}. */
    public BpfAsm store(int size, int dst, int off, int src) {
        return add(STX | MEM | sizeBits(size), dst, src, null, off, 0);
    }

    /** {@code lock *(u64 *)(dst + off) += src}. */
    public BpfAsm atomicAdd64(int dst, int off, int src) {
        return add(STX | ATOMIC | DW, dst, src, null, off, ADD);
    }

    /** 64-bit {@code dst op= imm} (imm sign-extended). */
    public BpfAsm alu(int op, int dst, int imm) {
        return add(ALU64 | op | K, dst, 0, null, 0, imm);
    }

    /** 64-bit {@code dst op= src}. */
    public BpfAsm aluReg(int op, int dst, int src) {
        return add(ALU64 | op | X, dst, src, null, 0, 0);
    }

    public BpfAsm mov(int dst, int imm) {
        return alu(MOV, dst, imm);
    }

    public BpfAsm movReg(int dst, int src) {
        return aluReg(MOV, dst, src);
    }

    /** {@code dst = the map behind fd} (a two-slot load the kernel rewrites to the map's address). */
    public BpfAsm loadMap(int dst, Fd map) {
        add(LD | DW | IMM, dst, PSEUDO_MAP_FD, null, 0, map.value());
        return add(0, 0, 0, null, 0, 0);
    }

    /** {@code if (dst op imm) goto target}, comparing all 64 bits. */
    public BpfAsm jump(int op, int dst, int imm, String target) {
        return add(JMP | op | K, dst, 0, target, 0, imm);
    }

    /** {@code if ((u32) dst op (u32) imm) goto target}: for constants with bit 31 set. */
    public BpfAsm jump32(int op, int dst, int imm, String target) {
        return add(JMP32 | op | K, dst, 0, target, 0, imm);
    }

    public BpfAsm jumpAlways(String target) {
        return add(JMP, 0, 0, target, 0, 0);
    }

    /** Calls helper {@code id} (arguments in r1-r5, result in r0; r1-r5 are clobbered). */
    public BpfAsm call(int helper) {
        return add(JMP | 0x80, 0, 0, null, 0, helper);
    }

    public BpfAsm exit() {
        return add(JMP | 0x90, 0, 0, null, 0, 0);
    }

    /** Names the next instruction. */
    public BpfAsm label(String name) {
        if (labels.putIfAbsent(name, insns.size()) != null) {
            throw new IllegalArgumentException("label " + name + " is defined twice");
        }
        return this;
    }

    /** The program as the kernel takes it: 8 bytes per instruction, jumps resolved. */
    public byte[] assemble() {
        ByteBuffer out = ByteBuffer.allocate(insns.size() * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < insns.size(); i++) {
            Insn in = insns.get(i);
            int off = in.off;
            if (in.target != null) {
                Integer at = labels.get(in.target);
                if (at == null) {
                    throw new IllegalArgumentException("no label " + in.target);
                }
                off = at - i - 1;
                if (off < Short.MIN_VALUE || off > Short.MAX_VALUE) {
                    throw new IllegalArgumentException("jump to " + in.target + " is too far");
                }
            }
            out.put((byte) in.code);
            out.put((byte) ((in.src << 4) | in.dst));
            out.putShort((short) off);
            out.putInt(in.imm);
        }
        return out.array();
    }
}
