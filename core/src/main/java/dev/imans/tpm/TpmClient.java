package dev.imans.tpm;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The three operations the anchor does on a TPM, each one command over {@code transport}. */
public final class TpmClient {
    private final TpmTransport transport;

    public TpmClient(TpmTransport transport) {
        this.transport = transport;
    }

    public TpmTransport transport() {
        return transport;
    }

    /** The banks in which {@code pcr} is allocated (of the algorithms {@link TpmAlg} knows). */
    public List<TpmAlg> banks(int pcr) throws IOException {
        return Tpm2.parsePcrAllocation(transport.transmit(Tpm2.getPcrAllocation()), pcr);
    }

    /** The value of {@code pcr} in each of {@code banks}. */
    public Map<TpmAlg, byte[]> read(int pcr, List<TpmAlg> banks) throws IOException {
        Map<TpmAlg, byte[]> got = Tpm2.parsePcrRead(transport.transmit(Tpm2.pcrRead(pcr, banks)), pcr);
        List<TpmAlg> missing = new ArrayList<>(banks);
        missing.removeAll(got.keySet());
        if (!missing.isEmpty()) {
            throw new IOException("TPM2_PCR_Read of PCR " + pcr + " returned no value for " + missing);
        }
        return got;
    }

    /** Extends {@code pcr} in every bank given, in one command. */
    public void extend(int pcr, List<Tpm2.BankDigest> digests) throws IOException {
        Tpm2.checkPcrExtend(transport.transmit(Tpm2.pcrExtend(pcr, digests)));
    }
}
