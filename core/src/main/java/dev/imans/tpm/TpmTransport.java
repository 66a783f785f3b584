package dev.imans.tpm;

import java.io.IOException;

/**
 * Carries one TPM 2.0 command's bytes to a TPM and its response back: a resource-managed character
 * device ({@code /dev/tpmrm0}) or swtpm's TCP server. Each call stands alone (no connection is held
 * between commands), so other clients (tpm2-tools quoting the PCRs) can use the TPM in between.
 */
public interface TpmTransport {
    /** Sends {@code command} (a whole marshalled command) and returns the whole response. */
    byte[] transmit(byte[] command) throws IOException;

    /** What the operator named: the device path or {@code tcp:HOST:PORT}. */
    String name();

    /**
     * {@code tcp:HOST:PORT} (swtpm's {@code --server type=tcp} data port, raw command bytes) or the
     * path of a TPM character device.
     */
    static TpmTransport parse(String spec) {
        if (spec.startsWith("tcp:")) {
            String rest = spec.substring(4);
            int colon = rest.lastIndexOf(':');
            if (colon <= 0) {
                throw new IllegalArgumentException("TPM '" + spec + "': expected tcp:HOST:PORT");
            }
            int port;
            try {
                port = Integer.parseInt(rest.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("TPM '" + spec + "': bad port");
            }
            if (port <= 0 || port > 65535) {
                throw new IllegalArgumentException("TPM '" + spec + "': port out of range");
            }
            return new TcpTpm(rest.substring(0, colon), port);
        }
        if (spec.isEmpty()) {
            throw new IllegalArgumentException("TPM device must not be empty");
        }
        return new DeviceTpm(java.nio.file.Path.of(spec));
    }
}
