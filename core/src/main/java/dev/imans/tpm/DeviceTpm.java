package dev.imans.tpm;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * A TPM character device ({@code /dev/tpmrm0}, the kernel's resource manager): one {@code write(2)} of
 * the command, one {@code read(2)} of the whole response. Opened per command, as a TPM client that holds
 * no sessions needs nothing kept open.
 */
record DeviceTpm(Path device) implements TpmTransport {
    @Override
    public byte[] transmit(byte[] command) throws IOException {
        try (FileChannel ch = FileChannel.open(device, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer cmd = ByteBuffer.wrap(command);
            // The driver takes a command in one write; a short write is an error there, not a partial send.
            int n = ch.write(cmd);
            if (n != command.length) {
                throw new IOException(device + ": short write of a TPM command (" + n + " of " + command.length + ")");
            }
            ByteBuffer resp = ByteBuffer.allocate(Tpm2.MAX_RESPONSE);
            int got = ch.read(resp);
            if (got < Tpm2.HEADER_SIZE) {
                throw new IOException(device + ": short TPM response (" + got + " bytes)");
            }
            return Arrays.copyOf(resp.array(), got);
        }
    }

    @Override
    public String name() {
        return device.toString();
    }
}
