package dev.imans.daemon.fanotify;

import dev.imans.linux.Errno;
import dev.imans.linux.Fanotify;
import dev.imans.linux.Fd;
import dev.imans.linux.FileStat;
import dev.imans.linux.LinuxException;
import dev.imans.linux.Proc;
import dev.imans.linux.FanotifyGroup;
import dev.imans.linux.MountInfo;
import dev.imans.linux.Mounts;
import dev.imans.linux.Native;
import dev.imans.linux.Poll;
import dev.imans.linux.Stat;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.function.Supplier;

/**
 * Agent: silences, in a filesystems group, the private mounts overlayfs opens its layers' files through.
 *
 * <p>An open through an overlay raises a permission event on the overlay's inode (judged by the
 * overlays group, on the overlay's facts, as kernel IMA judges the opened inode), then overlayfs opens
 * the backing file on its layer through a private clone of the layer's mount, which raises a second event
 * on the layer's filesystem. That second event is the same open: judging it again would apply the
 * layer's {@code fsmagic}/{@code fsname}/{@code fsuuid} rules to it, measure it twice and audit it twice,
 * where the kernel never sees it (IMA hooks only the user's open, fs/namei.c do_open).
 *
 * <p>Such a clone belongs to no mount namespace (clone_private_mount in fs/namespace.c gives it
 * {@code MNT_NS_INTERNAL}), so no process can open a file through it by path. The daemon meets each one
 * first in its own opens: reading an overlay event makes the kernel open the overlay file for the daemon,
 * and overlayfs then opens the backing file, on the clone, as the daemon. A daemon's own open on a mount
 * its namespace does not hold, whose path (seen from that mount's root) leads from one of the marked
 * overlays' layer directories to the very same inode, is such a backing open: the mount is rooted at a
 * layer directory and is in no mount table. It gets an ignore mark in this group before that event is
 * answered, that is before the overlay event is decided and the opener's own backing open is made.
 * Both tests are needed: a mark on any other mount would silence it for everyone, and the daemon's
 * process may open files through other namespaces' mounts (an in-process daemon's tests do).
 *
 * <p>Must not: mark a mount of the daemon's namespace (the mount table is read again before any mark),
 * or be used on an overlays group (its own opens there are of overlay files, which are never clones).
 * Nor may it take a clone for one of the daemon's mounts: mount ids are reused lowest first, so a clone
 * made after one of the daemon's mounts went away often gets that mount's id. The known ids are trusted
 * only while {@code /proc/self/mountinfo} reports no change to the daemon's mount table (POLLPRI).
 * It reads {@code /proc/self/mountinfo} on the reader thread: procfs raises no permission events.
 */
final class BackingMounts implements AutoCloseable {
    private static final long PERM_MASK = Fanotify.FAN_OPEN_PERM | Fanotify.FAN_OPEN_EXEC_PERM;
    /** Newest first: FAN_MARK_IGNORE (6.0) needs SURV_MODIFY on a mount mark; the old ignored mask before it. */
    private static final int[] FLAGS = {
        Fanotify.FAN_MARK_IGNORE | Fanotify.FAN_MARK_IGNORED_SURV_MODIFY,
        Fanotify.FAN_MARK_IGNORED_MASK | Fanotify.FAN_MARK_IGNORED_SURV_MODIFY,
    };

    private final FanotifyGroup group;
    private final EngineMetrics metrics;
    /** The layer directories of the marked overlays, as the daemon reaches them. */
    private volatile Supplier<Collection<Path>> layers = List::of;
    private final MemorySegment errno = Native.errnoSegment(Arena.ofAuto());
    /** The daemon's own mount ids at the last read of its mount table, sorted (reader thread only). */
    private int[] own = new int[0];
    /** Open on the daemon's mount table: polls POLLPRI once the table changes after the last poll. */
    private final Fd table;
    private final Poll tableChanged = new Poll(1);
    private int flavour;

    /** Reads the mount table once now: the reader may not load a class from a marked filesystem later. */
    BackingMounts(FanotifyGroup group, EngineMetrics metrics) {
        this.group = group;
        this.metrics = metrics;
        Fd opened;
        try {
            opened = Fd.open(Path.of("/proc/self/mountinfo"), Fd.O_RDONLY | Fd.O_CLOEXEC);
        } catch (LinuxException e) {
            // Without it every known id counts as stale: the table is read at each of the daemon's opens.
            opened = null;
        }
        this.table = opened;
        if (table != null) {
            tableChanged.set(0, table.value(), Poll.POLLPRI);
        }
        try {
            this.own = ownMounts();
        } catch (IOException e) {
            this.own = new int[0];
        }
        // Loads and links what the rare path uses: the reader must not load a class from a marked
        // filesystem while it holds events (its own open would wait for itself).
        underALayer(-1, 0, 0);
        sameInode(Path.of("/"), "/", 0, 0);
        metrics.backingUnmatched.reset();
    }

    /**
     * One of the daemon's own opens, seen by the group: if it went through a mount the daemon's namespace
     * does not hold, ignore-marks that mount. Reader thread, before the event is answered. {@code st} is
     * the reader's stat buffer; never throws.
     */
    void selfOpen(int fd, Stat.Buffer st) {
        if (st.fstat(fd) != 0) {
            return;
        }
        // Allocation-free until a mount is new to the daemon (the reader allocates nothing per event).
        int mount = (int) st.mountId();
        if (mount == 0 || (Arrays.binarySearch(own, mount) >= 0 && !tableChanged())) {
            return;
        }
        try {
            own = ownMounts();
        } catch (IOException | RuntimeException e) {
            // Unknown: leave the mount unmarked (its events are judged on the layer, as before).
            metrics.backingMarkErrors.increment();
            return;
        }
        if (Arrays.binarySearch(own, mount) >= 0 || !underALayer(fd, st.dev(), st.ino())) {
            return;
        }
        while (true) {
            int rc = Fanotify.markFd(errno, group.fd(), Fanotify.FAN_MARK_ADD | Fanotify.FAN_MARK_MOUNT | FLAGS[flavour],
                    PERM_MASK, fd);
            if (rc == Errno.EINVAL && flavour + 1 < FLAGS.length) {
                flavour++;
                continue;
            }
            (rc == 0 ? metrics.backingMountsIgnored : metrics.backingMarkErrors).increment();
            return;
        }
    }

    /** Whether the daemon's mount table may have changed since the last poll (the poll takes the change). */
    private boolean tableChanged() {
        if (table == null) {
            return true;
        }
        int n = tableChanged.await(0);
        return n != 0 && (n < 0 || (tableChanged.revents(0) & (Poll.POLLPRI | Poll.POLLERR)) != 0);
    }

    /** Sets where the layer directories of the marked overlays are found. */
    void layers(Supplier<Collection<Path>> layers) {
        this.layers = layers;
    }

    /** Whether the file's path from its mount's root, taken from a layer directory, is this same inode. */
    private boolean underALayer(int fd, long dev, long ino) {
        String rel;
        try {
            rel = Proc.readlink("/proc/self/fd/".concat(Integer.toString(fd)));
        } catch (LinuxException e) {
            return false;
        }
        if (!rel.startsWith("/")) {
            return false;
        }
        for (Path layer : layers.get()) {
            if (sameInode(layer, rel, dev, ino)) {
                return true;
            }
        }
        metrics.backingUnmatched.increment();
        return false;
    }

    private static boolean sameInode(Path layer, String rel, long dev, long ino) {
        try {
            FileStat st = Stat.stat(Path.of(layer.toString().concat(rel)));
            return st.dev() == dev && st.ino() == ino;
        } catch (LinuxException | RuntimeException e) {
            return false;
        }
    }

    /** After the reader has stopped. */
    @Override
    public void close() {
        tableChanged.close();
        if (table != null) {
            table.close();
        }
    }

    private static int[] ownMounts() throws IOException {
        return Mounts.readSelf().stream().mapToInt(MountInfo::mountId).sorted().toArray();
    }
}
