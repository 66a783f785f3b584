package dev.imans.daemon.measure;

import dev.imans.crypto.HashAlgo;
import dev.imans.measure.PcrBank;
import dev.imans.tpm.TpmAlg;
import dev.imans.tpm.TpmTransport;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A TPM in memory with sha1 and sha256 banks, answering the three commands the anchor sends as a TPM
 * does; it can refuse the next extensions with a response code, or carry one out and lose the answer.
 */
final class FakeTpm implements TpmTransport {
    private final Map<TpmAlg, PcrBank> banks = new LinkedHashMap<>();
    int failWith;
    /** Answers nothing, as a TPM not there. */
    volatile boolean down;
    boolean loseAnswer;
    int extends_;

    FakeTpm() {
        banks.put(TpmAlg.SHA1, new PcrBank(HashAlgo.SHA1));
        banks.put(TpmAlg.SHA256, new PcrBank(HashAlgo.SHA256));
    }

    synchronized int extensions() {
        return extends_;
    }

    synchronized byte[] value(TpmAlg a, int pcr) {
        return banks.get(a).value(pcr);
    }

    /** Someone else extends the PCR. */
    synchronized void extendBehind(int pcr) {
        banks.values().forEach(b -> b.extend(pcr, new byte[b.algo().digestSize()]));
    }

    @Override
    public synchronized byte[] transmit(byte[] command) throws IOException {
        if (down) {
            throw new java.net.ConnectException("Connection refused");
        }
        ByteBuffer b = ByteBuffer.wrap(command);
        b.getShort();
        b.getInt();
        int code = b.getInt();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        switch (code) {
            case 0x17A -> {
                out.write(0);
                u32(out, 5);
                u32(out, banks.size());
                for (TpmAlg a : banks.keySet()) {
                    u16(out, a.id());
                    out.writeBytes(new byte[] {3, (byte) 0xff, (byte) 0xff, (byte) 0xff});
                }
                return response(0x8001, 0, out.toByteArray());
            }
            case 0x17E -> {
                int count = b.getInt();
                ByteArrayOutputStream sel = new ByteArrayOutputStream();
                ByteArrayOutputStream digests = new ByteArrayOutputStream();
                int pcr = -1;
                for (int i = 0; i < count; i++) {
                    int alg = Short.toUnsignedInt(b.getShort());
                    byte[] select = new byte[b.get()];
                    b.get(select);
                    for (int p = 0; p < 24; p++) {
                        if ((select[p / 8] & (1 << (p % 8))) != 0) {
                            pcr = p;
                        }
                    }
                    u16(sel, alg);
                    sel.write(select.length);
                    sel.writeBytes(select);
                    byte[] v = banks.get(TpmAlg.byId(alg).orElseThrow()).value(pcr);
                    u16(digests, v.length);
                    digests.writeBytes(v);
                }
                u32(out, 7);
                u32(out, count);
                out.writeBytes(sel.toByteArray());
                u32(out, count);
                out.writeBytes(digests.toByteArray());
                return response(0x8001, 0, out.toByteArray());
            }
            case 0x182 -> {
                int pcr = b.getInt();
                b.position(b.position() + 4 + 9);
                if (failWith != 0) {
                    return response(0x8001, failWith, new byte[0]);
                }
                int count = b.getInt();
                for (int i = 0; i < count; i++) {
                    TpmAlg a = TpmAlg.byId(Short.toUnsignedInt(b.getShort())).orElseThrow();
                    byte[] d = new byte[a.hash().digestSize()];
                    b.get(d);
                    banks.get(a).extend(pcr, d);
                }
                extends_++;
                if (loseAnswer) {
                    loseAnswer = false;
                    throw new IOException("connection reset");
                }
                u32(out, 0);
                out.writeBytes(new byte[] {0, 0, 1, 0, 0});
                return response(0x8002, 0, out.toByteArray());
            }
            default -> throw new IOException("unexpected command 0x" + Integer.toHexString(code));
        }
    }

    private static byte[] response(int tag, int rc, byte[] body) {
        return ByteBuffer.allocate(10 + body.length).putShort((short) tag).putInt(10 + body.length).putInt(rc)
                .put(body).array();
    }

    private static void u32(ByteArrayOutputStream out, int v) {
        out.writeBytes(ByteBuffer.allocate(4).putInt(v).array());
    }

    private static void u16(ByteArrayOutputStream out, int v) {
        out.writeBytes(ByteBuffer.allocate(2).putShort((short) v).array());
    }

    @Override
    public String name() {
        return "fake";
    }

    List<TpmAlg> algs() {
        return List.copyOf(banks.keySet());
    }
}
