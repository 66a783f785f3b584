package dev.imans.linux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real AF_UNIX datagram sockets: a path socket, an abstract one, and a send nobody receives. */
class UnixDatagramTest {
    @TempDir
    Path tmp;

    @Test
    void datagramsReachASocketBoundToAPath() throws Exception {
        String address = tmp.resolve("notify").toString();
        try (UnixDatagram receiver = UnixDatagram.open(); UnixDatagram sender = UnixDatagram.open()) {
            receiver.bind(address);
            assertThat(receiver.receive(4096, 0)).isEmpty();
            sender.send(address, "READY=1\nSTATUS=up".getBytes(StandardCharsets.UTF_8));
            sender.send(address, "STOPPING=1".getBytes(StandardCharsets.UTF_8));
            assertThat(receiver.receive(4096, 2000)).hasValueSatisfying(
                    b -> assertThat(new String(b, StandardCharsets.UTF_8)).isEqualTo("READY=1\nSTATUS=up"));
            assertThat(receiver.receive(4096, 2000)).hasValueSatisfying(
                    b -> assertThat(new String(b, StandardCharsets.UTF_8)).isEqualTo("STOPPING=1"));
            assertThat(receiver.receive(4096, 50)).isEmpty();
        }
    }

    @Test
    void datagramsReachAnAbstractSocket() throws Exception {
        String address = "@imans-test-" + UUID.randomUUID();
        try (UnixDatagram receiver = UnixDatagram.open(); UnixDatagram sender = UnixDatagram.open()) {
            receiver.bind(address);
            sender.send(address, "WATCHDOG=1".getBytes(StandardCharsets.US_ASCII));
            assertThat(receiver.receive(64, 2000)).hasValueSatisfying(
                    b -> assertThat(new String(b, StandardCharsets.US_ASCII)).isEqualTo("WATCHDOG=1"));
            // The abstract name is exactly the bytes after '@': a longer name is another socket.
            assertThatThrownBy(() -> sender.send(address + "x", new byte[] {1}))
                    .isInstanceOf(LinuxException.class);
        }
    }

    @Test
    void sendingToNoSocketFails() throws Exception {
        try (UnixDatagram sender = UnixDatagram.open()) {
            assertThatThrownBy(() -> sender.send(tmp.resolve("absent").toString(), new byte[] {1}))
                    .isInstanceOf(LinuxException.class)
                    .satisfies(e -> assertThat(((LinuxException) e).errnoValue()).isEqualTo(Errno.ENOENT));
            assertThatThrownBy(() -> sender.send("", new byte[] {1})).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> sender.send("/" + "x".repeat(200), new byte[] {1}))
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }
}
