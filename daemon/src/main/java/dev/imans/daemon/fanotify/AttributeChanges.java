package dev.imans.daemon.fanotify;

import dev.imans.linux.Errno;
import dev.imans.linux.Fanotify;
import dev.imans.linux.FanotifyEvents;
import dev.imans.linux.FanotifyGroup;
import dev.imans.linux.Fd;
import dev.imans.linux.FileHandles;
import dev.imans.linux.LinuxException;
import dev.imans.linux.Stat;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Collection;
import java.util.function.Supplier;

/**
 * Agent: the attribute changes of ignore-marked files (chown, chgrp, chmod, a new {@code security.ima}),
 * read from a group that reports file identifiers by the modification watcher's thread.
 *
 * <p>Such a change clears no ignore mark in the kernel (only FS_MODIFY does), yet it can make a file a
 * policy did not cover ({@code fowner=}, {@code fgroup=}) covered, or a passing label a failing one. For
 * each event the inode is reached by its handle ({@code open_by_handle_at} with {@code O_PATH}, which
 * raises no open event) through a filesystem the engine marked, its ignore mark dropped and the listener
 * told. An inode that is gone (ESTALE) has nothing left to drop; one that cannot be reached otherwise
 * (no marked path on its filesystem, an overlay's file, an overflowed queue) drops every ignore mark.
 *
 * <p>Must not: open files for reading (a permission event would wait for the reader), or keep a
 * descriptor of a filesystem between events (it would hold an unmounted filesystem).
 */
final class AttributeChanges {
    private final FanotifyGroup group;
    private final IgnoreMarks ignoreMarks;
    private final ModificationListener listener;
    private final EngineMetrics metrics;
    private final Supplier<Collection<Path>> markedPaths;

    AttributeChanges(FanotifyGroup group, IgnoreMarks ignoreMarks, ModificationListener listener,
            EngineMetrics metrics, Supplier<Collection<Path>> markedPaths) {
        this.group = group;
        this.ignoreMarks = ignoreMarks;
        this.listener = listener;
        this.metrics = metrics;
        this.markedPaths = markedPaths;
    }

    FanotifyGroup group() {
        return group;
    }

    /** Reads one batch of the group's events and acts on each. */
    void drain(FanotifyEvents events, Stat.Buffer st, MemorySegment err) throws LinuxException {
        long r = events.read(group.fd());
        if (r == -Errno.EINTR || r == -Errno.EAGAIN) {
            return;
        }
        if (r < 0) {
            throw new LinuxException("read", (int) -r, "fanotify attribute group " + group.fd());
        }
        boolean all = false;
        while (events.next()) {
            if ((events.mask() & Fanotify.FAN_Q_OVERFLOW) != 0 || !events.hasFid()) {
                all = true;
                continue;
            }
            metrics.attributeChanges.increment();
            all |= !dropOne(events, st, err);
        }
        if (all) {
            ignoreMarks.flush();
            listener.lostTrack();
            metrics.attributeFlushes.increment();
        }
    }

    /** Drops the mark of the inode the current event names; false when it could not be reached. */
    private boolean dropOne(FanotifyEvents events, Stat.Buffer st, MemorySegment err) {
        int fsid0 = events.fsid0();
        int fsid1 = events.fsid1();
        for (Path p : markedPaths.get()) {
            Stat.FsStat fs;
            try {
                fs = Stat.statfs(p);
            } catch (LinuxException e) {
                continue;
            }
            if (fs.fsid0() != fsid0 || fs.fsid1() != fsid1) {
                continue;
            }
            // A directory descriptor: open_by_handle_at refuses an O_PATH one (EBADF).
            try (Fd mount = Fd.open(p, Fd.O_RDONLY | Fd.O_DIRECTORY | Fd.O_CLOEXEC)) {
                int fd = FileHandles.open(err, mount.value(), events.fileHandle(), Fd.O_PATH | Fd.O_CLOEXEC);
                // An overlay's handles cannot be decoded (without nfs_export): ESTALE says nothing there.
                if (fd == -Errno.ESTALE && !fs.isOverlay()) {
                    return true;
                }
                if (fd < 0) {
                    return false;
                }
                try (Fd file = Fd.adopt(fd)) {
                    ignoreMarks.removeAt(file.value());
                    if (st.fstat(file.value()) == 0) {
                        listener.modified(st.dev(), st.ino(), Fanotify.FAN_ATTRIB);
                    }
                }
                return true;
            } catch (LinuxException e) {
                return false;
            }
        }
        return false;
    }
}
