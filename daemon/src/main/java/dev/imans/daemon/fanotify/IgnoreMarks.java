package dev.imans.daemon.fanotify;

import dev.imans.daemon.health.Health;
import dev.imans.linux.Errno;
import dev.imans.linux.Fanotify;
import dev.imans.linux.FanotifyGroup;
import dev.imans.linux.LinuxException;
import dev.imans.linux.Native;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/**
 * Agent: the inode ignore marks of the permission group, the kernel-side verdict cache.
 *
 * <p>Owns: adding an ignore mark for FAN_OPEN_PERM on one event's file, removing it
 * when the file is modified, flushing them all when policy or keys change. Must not: mark anything but
 * inodes (the group's sb marks are the engine's), or be used for verdicts that depend on the opener's
 * namespace: an ignore mark silences the group for every namespace alike.
 *
 * <p>Kernel rules this relies on (docs/native.md, spec fanotify.md 2.4): a mark without SURV_MODIFY is
 * cleared by any FS_MODIFY (write, truncate); it is silently not added while any process has the file
 * open for write (so a file being written never gets one); writes through a shared writable mapping
 * clear nothing. So every ignore-marked inode also gets a FAN_OPEN inode mark in the notification
 * group: the modification watcher sees each later open, probes whether the file is now open for
 * write ({@link dev.imans.linux.Leases}), and drops the ignore mark. It reads in batches, so a read
 * open made just after such a write can still be answered by the mark; execs never are (they are not
 * in the mask, and their decision reads the pending events itself, {@link Modifications#catchUp}).
 * Nor is a mark cleared by a change of owner, mode or {@code security.ima} (FS_ATTRIB), which can turn a
 * file a policy did not cover (fowner=, fgroup=) into one it does, or a passing label into a failing
 * one: every ignore-marked inode also gets a FAN_ATTRIB inode mark in a group that reports file
 * identifiers (the only kind fanotify gives FAN_ATTRIB to), and the watcher drops the ignore mark of the
 * inode such an event names. The window left is the time the watcher takes to read that notification.
 */
public final class IgnoreMarks {
    /**
     * Opens only, never execs: an exec of an ignore-marked file still comes to the decider, which reads
     * the writes queued before it ({@link Modifications#catchUp}). A write through a shared mapping
     * leaves the mark in place until the watcher reads the writer's open or close; an exec in that
     * pause would run content nobody judged. Execs are few, and their round trip is small beside an
     * exec's own cost.
     */
    static final long PERM_MASK = Fanotify.FAN_OPEN_PERM;
    /** Newest first: FAN_MARK_IGNORE (6.0) and FAN_MARK_EVICTABLE (5.19, the mark does not pin the inode). */
    private static final int[] ADD_FLAGS = {
        Fanotify.FAN_MARK_IGNORE | Fanotify.FAN_MARK_EVICTABLE,
        Fanotify.FAN_MARK_IGNORED_MASK | Fanotify.FAN_MARK_EVICTABLE,
        Fanotify.FAN_MARK_IGNORED_MASK,
    };

    private final FanotifyGroup group;
    private final FanotifyGroup openWatch;
    private final FanotifyGroup attribWatch;
    /**
     * Whether attribute changes are watched per ignore-marked inode. Not for overlays (fanotify cannot
     * give FAN_ATTRIB of an overlay inode to a file-identifier group): their layers' filesystems are
     * watched whole instead ({@link FanotifyEngine#watchModifications}).
     */
    private final boolean attribPerInode;
    private final EngineMetrics metrics;
    private final Health health;
    private final ThreadLocal<MemorySegment> errno =
            ThreadLocal.withInitial(() -> Native.errnoSegment(Arena.ofAuto()));
    private volatile int flavour;

    IgnoreMarks(FanotifyGroup group, FanotifyGroup openWatch, FanotifyGroup attribWatch, boolean attribPerInode,
            EngineMetrics metrics, Health health) {
        this.attribPerInode = attribPerInode;
        this.health = health;
        this.group = group;
        this.openWatch = openWatch;
        this.attribWatch = attribWatch;
        this.metrics = metrics;
    }

    /**
     * Asks the kernel to stop reporting opens of the file behind {@code fd} to this group until it is
     * modified. 0 on success (which includes the kernel's silent no-op while a writer has the file open),
     * else the errno; EAGAIN while a degraded state makes marks unsafe ({@link Health}). Never throws,
     * so a decider may call it on the reader thread.
     */
    public int add(int fd) {
        if (health.ignoreMarksSuspended()) {
            return Errno.EAGAIN;
        }
        MemorySegment err = errno.get();
        while (true) {
            int f = flavour;
            int evictable = ADD_FLAGS[f] & Fanotify.FAN_MARK_EVICTABLE;
            // The watches go first: a writer that opens the file after them is seen, and one that has it
            // open when the ignore mark comes keeps the kernel from adding it. The other order left a
            // writer opening between the two unseen, its shared-mapping writes hidden until its close.
            int rc = Fanotify.markFd(err, openWatch.fd(), Fanotify.FAN_MARK_ADD | Fanotify.FAN_MARK_INODE | evictable,
                    Fanotify.FAN_OPEN, fd);
            if (rc == 0 && attribPerInode) {
                rc = Fanotify.markFd(err, attribWatch.fd(), Fanotify.FAN_MARK_ADD | Fanotify.FAN_MARK_INODE | evictable,
                        Fanotify.FAN_ATTRIB, fd);
            }
            if (rc == 0) {
                rc = Fanotify.markFd(err, group.fd(), Fanotify.FAN_MARK_ADD | Fanotify.FAN_MARK_INODE | ADD_FLAGS[f],
                        PERM_MASK, fd);
            }
            if (rc == Errno.EINVAL && f + 1 < ADD_FLAGS.length) {
                removeWatches(fd);
                flavour = f + 1;
                continue;
            }
            if (rc != 0) {
                // Without the open watch a later shared-mapping write could hide behind the mark, and
                // without the attribute watch a chown or a new label; watches without the mark only cost.
                removeWatches(fd);
                return rc;
            }
            metrics.ignoreMarksAdded.increment();
            // A degraded state entered while the mark was being added flushes before or after it:
            // after, and this mark would survive it.
            if (health.ignoreMarksSuspended()) {
                remove(fd);
                return Errno.EAGAIN;
            }
            return 0;
        }
    }

    private void removeWatches(int fd) {
        Fanotify.markFd(errno.get(), openWatch.fd(), Fanotify.FAN_MARK_REMOVE | Fanotify.FAN_MARK_INODE,
                Fanotify.FAN_OPEN, fd);
        if (attribPerInode) {
            Fanotify.markFd(errno.get(), attribWatch.fd(), Fanotify.FAN_MARK_REMOVE | Fanotify.FAN_MARK_INODE,
                    Fanotify.FAN_ATTRIB, fd);
        }
    }

    /** Removes the ignore mark of the file behind {@code fd}; whether there was one. */
    boolean remove(int fd) {
        int ignoreFlag = (ADD_FLAGS[flavour] & Fanotify.FAN_MARK_IGNORE) != 0
                ? Fanotify.FAN_MARK_IGNORE : Fanotify.FAN_MARK_IGNORED_MASK;
        int rc = Fanotify.markFd(errno.get(), group.fd(),
                Fanotify.FAN_MARK_REMOVE | Fanotify.FAN_MARK_INODE | ignoreFlag, PERM_MASK, fd);
        removeWatches(fd);
        if (rc == 0) {
            metrics.ignoreMarksRemoved.increment();
            return true;
        }
        return false;
    }

    /**
     * As {@link #remove(int)} for a descriptor fanotify_mark cannot take ({@code O_PATH}): through its
     * {@code /proc/self/fd} link, which resolves to the file.
     */
    boolean removeAt(int pathFd) {
        Path link = Path.of("/proc/self/fd/".concat(Integer.toString(pathFd)));
        int ignoreFlag = (ADD_FLAGS[flavour] & Fanotify.FAN_MARK_IGNORE) != 0
                ? Fanotify.FAN_MARK_IGNORE : Fanotify.FAN_MARK_IGNORED_MASK;
        boolean removed;
        try {
            group.remove(Fanotify.FAN_MARK_INODE | ignoreFlag, PERM_MASK, link);
            removed = true;
        } catch (LinuxException e) {
            removed = false;
        }
        try {
            openWatch.remove(Fanotify.FAN_MARK_INODE, Fanotify.FAN_OPEN, link);
        } catch (LinuxException e) {
            // It had none.
        }
        if (attribPerInode) {
            try {
                attribWatch.remove(Fanotify.FAN_MARK_INODE, Fanotify.FAN_ATTRIB, link);
            } catch (LinuxException e) {
                // It had none.
            }
        }
        if (removed) {
            metrics.ignoreMarksRemoved.increment();
        }
        return removed;
    }

    /** Drops every ignore mark of the group (the group has no other inode marks): after any policy change. */
    public void flush() throws LinuxException {
        group.flush(Fanotify.FAN_MARK_INODE);
        openWatch.flush(Fanotify.FAN_MARK_INODE);
        if (attribPerInode) {
            attribWatch.flush(Fanotify.FAN_MARK_INODE);
        }
    }
}
