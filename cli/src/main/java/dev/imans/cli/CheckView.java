package dev.imans.cli;

import dev.imans.linux.Fd;
import dev.imans.linux.FileStat;
import dev.imans.linux.FsUuid;
import dev.imans.linux.LinuxException;
import dev.imans.linux.MountInfo;
import dev.imans.linux.Mounts;
import dev.imans.linux.Stat;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The trees as one process sees them: this one, or {@code --ns-view PID} (paths resolved through
 * {@code /proc/PID/root}, filesystems named from its {@code mountinfo}), and each file's filesystem
 * facts as the kernel's policy matching takes them.
 */
final class CheckView {
    private final Path prefix;
    private final Path cwd;
    private final Map<Long, String> typeByDev = new HashMap<>();
    private final Map<Long, Fs> byDev = new HashMap<>();

    /** A filesystem's {@code fsmagic=}, {@code fsname=} and {@code fsuuid=} facts (a null UUID: unreadable). */
    record Fs(long magic, String name, UUID uuid) {}

    private CheckView(Path prefix, Path cwd, List<MountInfo> mounts) {
        this.prefix = prefix;
        this.cwd = cwd;
        for (MountInfo m : mounts) {
            typeByDev.putIfAbsent(m.dev(), m.fsType());
        }
    }

    static CheckView of(Long pid) throws IOException {
        if (pid == null) {
            return new CheckView(null, null, Mounts.readSelf());
        }
        Path proc = Path.of("/proc", Long.toString(pid));
        return new CheckView(proc.resolve("root"), proc.resolve("cwd"), Mounts.read(Math.toIntExact(pid)));
    }

    /** Where this process finds a path named in the view. */
    Path resolve(Path named) {
        if (prefix == null) {
            return named;
        }
        return named.isAbsolute() ? prefix.resolve(Path.of("/").relativize(named)) : cwd.resolve(named);
    }

    /** The path as the view names it. */
    Path shown(Path real) {
        if (prefix != null && real.startsWith(prefix)) {
            return Path.of("/").resolve(prefix.relativize(real));
        }
        if (cwd != null && real.startsWith(cwd)) {
            return cwd.relativize(real);
        }
        return real;
    }

    /**
     * The filesystem a file is opened on. An overlay's regular files report a layer's device in
     * {@code st_dev}, but the kernel matches the overlay's superblock, which statfs names.
     */
    Fs filesystem(Path real, FileStat st) throws LinuxException {
        Fs fs = byDev.get(st.dev());
        if (fs == null) {
            long magic = Stat.statfs(real).type();
            String name = magic == Stat.OVERLAYFS_SUPER_MAGIC ? "overlay" : typeByDev.getOrDefault(st.dev(), "");
            fs = new Fs(magic, name, uuid(real, magic));
            if (magic != Stat.OVERLAYFS_SUPER_MAGIC) {
                byDev.put(st.dev(), fs);
            }
        }
        return fs;
    }

    /** The superblock UUID as the daemon reads it (null when it cannot be read: then judged as the daemon does). */
    private static UUID uuid(Path file, long magic) {
        try (Fd fd = Fd.open(file, Fd.O_RDONLY | Fd.O_NONBLOCK)) {
            return FsUuid.read(fd.value(), magic).orElse(null);
        } catch (LinuxException e) {
            return null;
        }
    }
}
