package dev.imans.tpm;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The TPM 2.0 commands the anchor needs, marshalled by hand (TPM 2.0 Library part 3, big-endian):
 * {@code TPM2_PCR_Extend} with a password session of empty auth ({@code TPM_RS_PW}, the kernel's
 * tpm2_pcr_extend), {@code TPM2_PCR_Read}, and {@code TPM2_GetCapability(TPM_CAP_PCRS)} for the
 * allocated banks.
 */
public final class Tpm2 {
    public static final int HEADER_SIZE = 10;
    /** Larger than any response to the commands here (TPM_PT_MAX_RESPONSE_SIZE is 4096 on common TPMs). */
    public static final int MAX_RESPONSE = 4096;

    static final int TPM_ST_NO_SESSIONS = 0x8001;
    static final int TPM_ST_SESSIONS = 0x8002;
    static final int TPM_CC_PCR_EXTEND = 0x00000182;
    static final int TPM_CC_PCR_READ = 0x0000017E;
    static final int TPM_CC_GET_CAPABILITY = 0x0000017A;
    static final int TPM_RS_PW = 0x40000009;
    static final int TPM_CAP_PCRS = 0x00000005;
    /** sizeofSelect for 24 PCRs. */
    private static final int PCR_SELECT_SIZE = 3;

    private Tpm2() {}

    /** A digest for one bank of a PCR_Extend ({@code TPMT_HA}). */
    public record BankDigest(TpmAlg alg, byte[] digest) {}

    /** {@code TPM2_PCR_Extend(pcr, digests)}, authorised by the empty password. */
    public static byte[] pcrExtend(int pcr, List<BankDigest> digests) {
        checkPcr(pcr);
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        u32(body, pcr);
        // TPMS_AUTH_COMMAND: TPM_RS_PW, empty nonce, no attributes, empty password.
        u32(body, 9);
        u32(body, TPM_RS_PW);
        u16(body, 0);
        body.write(0);
        u16(body, 0);
        u32(body, digests.size());
        for (BankDigest d : digests) {
            u16(body, d.alg().id());
            body.writeBytes(d.digest());
        }
        return command(TPM_ST_SESSIONS, TPM_CC_PCR_EXTEND, body.toByteArray());
    }

    /** {@code TPM2_PCR_Read} of {@code pcr} in each of {@code banks}. */
    public static byte[] pcrRead(int pcr, List<TpmAlg> banks) {
        checkPcr(pcr);
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        u32(body, banks.size());
        for (TpmAlg a : banks) {
            u16(body, a.id());
            body.write(PCR_SELECT_SIZE);
            byte[] select = new byte[PCR_SELECT_SIZE];
            select[pcr / 8] = (byte) (1 << (pcr % 8));
            body.writeBytes(select);
        }
        return command(TPM_ST_NO_SESSIONS, TPM_CC_PCR_READ, body.toByteArray());
    }

    /** {@code TPM2_GetCapability(TPM_CAP_PCRS, 0, 1)}: the PCR banks and which PCRs each has allocated. */
    public static byte[] getPcrAllocation() {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        u32(body, TPM_CAP_PCRS);
        u32(body, 0);
        u32(body, 1);
        return command(TPM_ST_NO_SESSIONS, TPM_CC_GET_CAPABILITY, body.toByteArray());
    }

    /**
     * The response's parameters (after the header, and for a command with sessions after the
     * {@code parameterSize}); a {@link TpmException} for a non-zero response code.
     */
    static ByteBuffer parameters(String command, byte[] response, boolean sessions) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(response);
        try {
            int tag = Short.toUnsignedInt(b.getShort());
            int size = b.getInt();
            int rc = b.getInt();
            if (size != response.length) {
                throw new IOException(command + ": response size field " + size + " but " + response.length + " bytes");
            }
            if (rc != 0) {
                throw new TpmException(command, rc);
            }
            if (sessions && tag == TPM_ST_SESSIONS) {
                int paramSize = b.getInt();
                return b.slice(b.position(), paramSize);
            }
            return b.slice(b.position(), b.remaining());
        } catch (BufferUnderflowException | IndexOutOfBoundsException e) {
            throw new IOException(command + ": truncated TPM response");
        }
    }

    /** Checks a PCR_Extend response. */
    public static void checkPcrExtend(byte[] response) throws IOException {
        parameters("TPM2_PCR_Extend", response, true);
    }

    /** The value of {@code pcr} in each bank the TPM returned, in its order. */
    public static Map<TpmAlg, byte[]> parsePcrRead(byte[] response, int pcr) throws IOException {
        ByteBuffer b = parameters("TPM2_PCR_Read", response, false);
        try {
            b.getInt(); // pcrUpdateCounter
            List<TpmAlg> read = new ArrayList<>();
            int selections = b.getInt();
            for (int i = 0; i < selections; i++) {
                int alg = Short.toUnsignedInt(b.getShort());
                byte[] select = new byte[Byte.toUnsignedInt(b.get())];
                b.get(select);
                if (pcr / 8 < select.length && (select[pcr / 8] & (1 << (pcr % 8))) != 0) {
                    read.add(TpmAlg.byId(alg).orElseThrow(() -> new IOException(
                            "TPM2_PCR_Read: bank 0x" + Integer.toHexString(alg) + " was not asked for")));
                }
            }
            int count = b.getInt();
            if (count != read.size()) {
                throw new IOException("TPM2_PCR_Read: " + count + " digests for " + read.size() + " selected banks");
            }
            Map<TpmAlg, byte[]> out = new LinkedHashMap<>();
            for (TpmAlg a : read) {
                byte[] d = new byte[Short.toUnsignedInt(b.getShort())];
                b.get(d);
                out.put(a, d);
            }
            return out;
        } catch (BufferUnderflowException e) {
            throw new IOException("TPM2_PCR_Read: truncated response");
        }
    }

    /**
     * The banks in which {@code pcr} is allocated, in the TPM's order. Banks of algorithms not in
     * {@link TpmAlg} are left out: their digest size is not known here, so they cannot be extended.
     */
    public static List<TpmAlg> parsePcrAllocation(byte[] response, int pcr) throws IOException {
        ByteBuffer b = parameters("TPM2_GetCapability", response, false);
        try {
            b.get(); // moreData: one TPML_PCR_SELECTION holds every bank (at most 16).
            int cap = b.getInt();
            if (cap != TPM_CAP_PCRS) {
                throw new IOException("TPM2_GetCapability: capability 0x" + Integer.toHexString(cap) + " in the answer");
            }
            List<TpmAlg> out = new ArrayList<>();
            int count = b.getInt();
            for (int i = 0; i < count; i++) {
                int alg = Short.toUnsignedInt(b.getShort());
                byte[] select = new byte[Byte.toUnsignedInt(b.get())];
                b.get(select);
                if (pcr / 8 < select.length && (select[pcr / 8] & (1 << (pcr % 8))) != 0) {
                    TpmAlg.byId(alg).ifPresent(out::add);
                }
            }
            return out;
        } catch (BufferUnderflowException e) {
            throw new IOException("TPM2_GetCapability: truncated response");
        }
    }

    private static byte[] command(int tag, int code, byte[] body) {
        ByteBuffer b = ByteBuffer.allocate(HEADER_SIZE + body.length);
        b.putShort((short) tag).putInt(HEADER_SIZE + body.length).putInt(code).put(body);
        return b.array();
    }

    private static void u32(ByteArrayOutputStream out, int v) {
        out.write(v >>> 24);
        out.write(v >>> 16);
        out.write(v >>> 8);
        out.write(v);
    }

    private static void u16(ByteArrayOutputStream out, int v) {
        out.write(v >>> 8);
        out.write(v);
    }

    private static void checkPcr(int pcr) {
        if (pcr < 0 || pcr > 23) {
            throw new IllegalArgumentException("PCR index " + pcr + " out of range 0-23");
        }
    }
}
