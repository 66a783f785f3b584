package dev.imans.daemon.fanotify;

import dev.imans.linux.Errno;
import dev.imans.linux.Fanotify;
import dev.imans.linux.FanotifyEvents;
import dev.imans.linux.FanotifyGroup;
import dev.imans.linux.FanotifyResponder;
import dev.imans.linux.Leases;
import dev.imans.linux.LinuxException;
import dev.imans.linux.Native;
import dev.imans.linux.Stat;
import java.lang.System.Logger.Level;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The events of the notification group (FAN_CLOSE_WRITE / FAN_MODIFY of marked filesystems, FAN_OPEN of
 * ignore-marked inodes) and what each one does: drop the file's ignore mark, tell the
 * {@link ModificationListener}. Read by the {@link ModificationWatcher} in batches, and by a deciding
 * thread that must see every modification made before the open it judges ({@link #catchUp}).
 *
 * <p>Why a deciding thread reads them itself: the kernel queues these events before the writer's
 * {@code close}/{@code munmap} returns, but the watcher reads them up to a batch pause later. A write
 * through a shared mapping raises no FS_MODIFY, and one to a page already made writable moves no
 * timestamp (the kernel updates the times at the page's write fault), so in that pause a
 * verdict the cache holds for the file's (size, mtime, ctime) would be served for content it never
 * saw. One lock makes the two readers one: a catch-up that holds it knows every event read before it
 * was handled, and reads the rest itself (the group is non-blocking).
 *
 * <p>Must not: open files by path, or wait on anything but the lock (the watcher holds it for one batch).
 */
final class Modifications {
    private static final long WRITES = Fanotify.FAN_CLOSE_WRITE | Fanotify.FAN_MODIFY;

    private final FanotifyGroup group;
    private final IgnoreMarks ignoreMarks;
    private final ModificationListener listener;
    private final EngineMetrics metrics;
    private final ReentrantLock lock = new ReentrantLock();
    private final QuietLog listenerErrors = new QuietLog("modification listener failed");
    private final QuietLog catchUpErrors = new QuietLog("modification catch-up failed");

    Modifications(FanotifyGroup group, IgnoreMarks ignoreMarks, ModificationListener listener, EngineMetrics metrics) {
        this.group = group;
        this.ignoreMarks = ignoreMarks;
        this.listener = listener;
        this.metrics = metrics;
    }

    FanotifyGroup group() {
        return group;
    }

    /** One reader's buffers: each thread that drains keeps its own. */
    static final class Buffers implements AutoCloseable {
        final FanotifyEvents events;
        final FanotifyResponder closer = new FanotifyResponder();
        final Stat.Buffer st = new Stat.Buffer();
        private final Arena arena = Arena.ofConfined();
        final MemorySegment err = Native.errnoSegment(arena);

        Buffers(int bytes) {
            events = new FanotifyEvents(bytes);
        }

        @Override
        public void close() {
            events.close();
            closer.close();
            st.close();
            arena.close();
        }
    }

    /**
     * The watcher's batch: one read (as much as the buffer holds) and its events, under the lock. The
     * watcher pauses between batches so that queued events merge and a busy group wakes it less.
     *
     * @throws LinuxException when the group cannot be read
     */
    void batch(Buffers b) throws LinuxException {
        read(b, false);
    }

    private void read(Buffers b, boolean untilEmpty) throws LinuxException {
        lock.lock();
        try {
            while (true) {
                long r = b.events.read(group.fd());
                if (r == -Errno.EINTR) {
                    continue;
                }
                if (r == -Errno.EAGAIN || r == 0) {
                    return;
                }
                if (r < 0) {
                    throw new LinuxException("read", (int) -r, "fanotify notification group " + group.fd());
                }
                while (b.events.next()) {
                    handle(b);
                }
                if (!untilEmpty) {
                    return;
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * For a deciding thread: reads and handles what is queued now, until the group is empty. Under the
     * lock, so that when it returns every event the kernel queued before the call was handled, by this
     * thread or the watcher. Never throws: a catch-up that fails empties the caches instead
     * ({@link ModificationListener#lostTrack}), so the decision that asked for it hashes the file
     * rather than trust a verdict a write it could not read may have made stale (the watcher, reading
     * the same group, stops and reports it). Counted.
     */
    void catchUp(Buffers b) {
        metrics.modificationCatchUps.increment();
        try {
            read(b, true);
        } catch (LinuxException | RuntimeException e) {
            listener.lostTrack();
            catchUpErrors.log(Level.WARNING, e.toString(), e);
        }
    }

    private void handle(Buffers b) {
        int fd = b.events.fd();
        if (fd < 0) {
            return;
        }
        long mask = b.events.mask();
        // A bare open matters only if it left a writer (a failed probe counts as one: dropping a mark
        // costs one more permission event, keeping a stale one costs integrity).
        if ((mask & Fanotify.FAN_OPEN) != 0) {
            metrics.ignoredOpens.increment();
        }
        if ((mask & WRITES) == 0 && Leases.openForWrite(b.err, fd) == 0) {
            if (listener.wantsOpens() && b.st.fstat(fd) == 0) {
                listener.opened(b.st.dev(), b.st.ino(), b.events.pid());
            }
            b.closer.closeFd(fd);
            return;
        }
        metrics.modifications.increment();
        ignoreMarks.remove(fd);
        if (b.st.fstat(fd) == 0) {
            try {
                listener.modified(b.st.dev(), b.st.ino(), mask);
                if ((mask & WRITES) == 0) {
                    listener.openedWithWriter(b.st.dev(), b.st.ino(), fd, b.events.pid());
                }
            } catch (RuntimeException e) {
                listenerErrors.log(Level.WARNING, e.toString(), e);
            }
        }
        b.closer.closeFd(fd);
    }
}
