package dev.imans.daemon.ns;

import dev.imans.linux.Fd;
import dev.imans.linux.LinuxException;
import dev.imans.ns.NamespaceId;
import dev.imans.ns.NamespacePin;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Holds a registered mount namespace alive with an open nsfs descriptor
 * ({@code /proc/PID/ns/mnt}), so its inode number cannot be given to a new namespace while it is
 * registered.
 */
public final class NsfsPin implements NamespacePin {
    private final NamespaceId id;
    private final Fd fd;

    private NsfsPin(NamespaceId id, Fd fd) {
        this.id = id;
        this.fd = fd;
    }

    /**
     * Pins the mount namespace of {@code pid}, which must be {@code expected}: the process may have
     * exited and its pid been reused between the scan that found it and this open, so the opened
     * descriptor's own link is checked.
     *
     * @throws IOException if the process is gone or now lives elsewhere
     */
    public static NsfsPin pin(long pid, NamespaceId expected) throws IOException {
        Fd fd = Fd.open(Path.of("/proc", Long.toString(pid), "ns", "mnt"), Fd.O_RDONLY);
        try {
            String link = Files.readSymbolicLink(Path.of("/proc/self/fd", Integer.toString(fd.value()))).toString();
            NamespaceId got = NamespaceId.fromLink(link);
            if (!got.equals(expected)) {
                throw new LinuxException("open", dev.imans.linux.Errno.ESRCH,
                        "/proc/" + pid + "/ns/mnt is " + link + ", not mnt:[" + expected + "]");
            }
            return new NsfsPin(expected, fd);
        } catch (IOException | RuntimeException e) {
            fd.close();
            throw e;
        }
    }

    @Override
    public void release() {
        fd.close();
    }

    @Override
    public String toString() {
        return "pin of mnt:[" + id + "] (" + fd + ")";
    }
}
