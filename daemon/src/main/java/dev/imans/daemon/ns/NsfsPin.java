package dev.imans.daemon.ns;

import dev.imans.linux.Fd;
import dev.imans.linux.LinuxException;
import dev.imans.linux.Namespaces;
import dev.imans.ns.NamespaceId;
import dev.imans.ns.NamespacePin;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * Holds a registered mount namespace alive with an open nsfs descriptor
 * ({@code /proc/PID/ns/mnt}), so its inode number cannot be given to a new namespace while it is
 * registered.
 */
public final class NsfsPin implements NamespacePin {
    private final NamespaceId id;
    private final Fd fd;
    private final OptionalLong mountNamespaceId;

    private NsfsPin(NamespaceId id, Fd fd, OptionalLong mountNamespaceId) {
        this.id = id;
        this.fd = fd;
        this.mountNamespaceId = mountNamespaceId;
    }

    /**
     * The namespace's 64-bit id ({@code NS_GET_MNTNS_ID}), never given to another namespace within a
     * boot, unlike its inode number; empty on kernels before 6.11.
     */
    public OptionalLong mountNamespaceId() {
        return mountNamespaceId;
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
            OptionalLong nsId;
            try {
                nsId = OptionalLong.of(Namespaces.mountNamespaceId(fd.value()));
            } catch (LinuxException e) {
                nsId = OptionalLong.empty();
            }
            return new NsfsPin(expected, fd, nsId);
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
