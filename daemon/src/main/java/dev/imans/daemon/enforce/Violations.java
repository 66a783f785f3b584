package dev.imans.daemon.enforce;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the kernel's read/write violation check (ima_rdwr_violation_check in ima_main.c, Linux 6.1) needs
 * to know, as far as the daemon can know it from userspace.
 *
 * <ul>
 * <li>{@code IMA_MUST_MEASURE}: set per file by a read-only open that a scope's {@code measure} rule
 *     matched (measured before or not), never cleared; kept here per scope, since each scope has its own
 *     list.</li>
 * <li>{@code i_readcount}, the file's read-only opens: the kernel counts every reader; Linux gives
 *     userspace no such count (a write lease would tell, but the blocked writer's own open makes it fail
 *     always). The daemon remembers the processes whose read-only opens of such a file it judged, and at a
 *     writer's open looks for a read-only descriptor of the file in those processes' {@code /proc/PID/fd}.
 *     Readers it was never asked about (opens through an ignore mark) and descriptors inherited by or
 *     passed to other processes are not seen.</li>
 * </ul>
 *
 * <p>The open-writers side needs no memory: the kernel's {@code inode_is_open_for_write} is what a read
 * lease probe answers ({@link dev.imans.linux.Leases}).
 *
 * <p>Thread-safe. Bounded: past {@link #MAX_FILES} files it starts over (violations then go unreported
 * for files measured before, never invented).
 */
final class Violations {
    static final int MAX_FILES = 100_000;
    /** Readers remembered per file; older ones give way (the most recent are the likeliest to hold it). */
    static final int MAX_READERS = 8;
    private static final int O_ACCMODE = 3;
    private static final int O_PATH = 010000000;

    private static final class File {
        final Set<OptionalLong> mustMeasure = ConcurrentHashMap.newKeySet();
        final int[] readers = new int[MAX_READERS];
        int next;

        synchronized void reader(int pid) {
            for (int r : readers) {
                if (r == pid) {
                    return;
                }
            }
            readers[next] = pid;
            next = (next + 1) % MAX_READERS;
        }

        synchronized int[] readers() {
            return Arrays.stream(readers).filter(p -> p > 0).toArray();
        }
    }

    private final ConcurrentHashMap<FileKey, File> files = new ConcurrentHashMap<>();

    /** A read-only open that {@code scope}'s measure rule matched: the kernel sets IMA_MUST_MEASURE. */
    void markMustMeasure(OptionalLong scope, FileKey key) {
        if (files.size() >= MAX_FILES && !files.containsKey(key)) {
            files.clear();
        }
        files.computeIfAbsent(key, k -> new File()).mustMeasure.add(scope);
    }

    /** Remembers a read-only opener of a file some scope must measure (no-op for other files). */
    void reader(FileKey key, int pid) {
        File f = files.get(key);
        if (f != null) {
            f.reader(pid);
        }
    }

    boolean mustMeasure(OptionalLong scope, FileKey key) {
        File f = files.get(key);
        return f != null && f.mustMeasure.contains(scope);
    }

    /**
     * Whether a remembered reader still holds a read-only descriptor of the file ({@code i_readcount}
     * as far as it is seen). Reads /proc only for files some scope must measure.
     */
    boolean hasReader(FileKey key) {
        File f = files.get(key);
        if (f == null) {
            return false;
        }
        for (int pid : f.readers()) {
            if (holds(pid, key, false)) {
                return true;
            }
        }
        return false;
    }

    /** Whether some scope must measure the file. */
    boolean known(FileKey key) {
        return files.containsKey(key);
    }

    /** Whether process {@code pid} holds a descriptor of the file open for writing (O_WRONLY, O_RDWR). */
    static boolean holdsForWriting(int pid, FileKey key) {
        return pid > 0 && holds(pid, key, true);
    }

    private static boolean holds(int pid, FileKey key, boolean writing) {
        Path fds = Path.of("/proc/" + pid + "/fd");
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(fds)) {
            for (Path fd : ds) {
                try {
                    Object ino = Files.getAttribute(fd, "unix:ino");
                    if (!(ino instanceof Long i) || i != key.ino()
                            || ((Long) Files.getAttribute(fd, "unix:dev")) != key.dev()) {
                        continue;
                    }
                    int flags = flags(Path.of("/proc/" + pid + "/fdinfo/" + fd.getFileName()));
                    if ((flags & O_PATH) == 0 && ((flags & O_ACCMODE) != 0) == writing) {
                        return true;
                    }
                } catch (IOException | RuntimeException e) {
                    // The descriptor closed meanwhile, or is no file: not a reader.
                }
            }
        } catch (IOException e) {
            // The process is gone: no reader there.
        }
        return false;
    }

    /**
     * {@code flags:} of fdinfo (octal): O_RDONLY descriptors without O_PATH are the opens do_dentry_open
     * counts in i_readcount, O_WRONLY and O_RDWR ones hold write access.
     */
    private static int flags(Path fdinfo) throws IOException {
        for (String line : Files.readAllLines(fdinfo)) {
            if (line.startsWith("flags:")) {
                return Integer.parseInt(line.substring(6).trim(), 8);
            }
        }
        return O_PATH;
    }

    /** For tests and the state report: how many files are remembered. */
    int size() {
        return files.size();
    }
}
