package dev.imans.tpm;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;

/**
 * swtpm's TCP server ({@code swtpm socket --server type=tcp,port=P}): raw command bytes in, raw response
 * bytes out. swtpm serves one connection at a time, so each command gets a connection of its own.
 */
record TcpTpm(String host, int port) implements TpmTransport {
    /** A TPM that does not answer must not hold an open up forever. */
    private static final int TIMEOUT_MS = 10_000;

    @Override
    public byte[] transmit(byte[] command) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), TIMEOUT_MS);
            s.setSoTimeout(TIMEOUT_MS);
            s.setTcpNoDelay(true);
            OutputStream out = s.getOutputStream();
            out.write(command);
            out.flush();
            return readResponse(s.getInputStream());
        }
    }

    /** A response is its 10-byte header, whose size field says how much follows. */
    static byte[] readResponse(InputStream in) throws IOException {
        DataInputStream d = new DataInputStream(in);
        byte[] header = new byte[Tpm2.HEADER_SIZE];
        d.readFully(header);
        int size = ByteBuffer.wrap(header).getInt(2);
        if (size < Tpm2.HEADER_SIZE || size > Tpm2.MAX_RESPONSE) {
            throw new IOException("TPM response size " + size + " out of range");
        }
        byte[] all = java.util.Arrays.copyOf(header, size);
        d.readFully(all, Tpm2.HEADER_SIZE, size - Tpm2.HEADER_SIZE);
        return all;
    }

    @Override
    public String name() {
        return "tcp:" + host + ":" + port;
    }
}
