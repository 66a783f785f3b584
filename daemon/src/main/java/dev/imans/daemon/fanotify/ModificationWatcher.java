package dev.imans.daemon.fanotify;

import dev.imans.linux.Errno;
import dev.imans.linux.EventFd;
import dev.imans.linux.FanotifyEvents;
import dev.imans.linux.FanotifyGroup;
import dev.imans.linux.Fanotify;
import dev.imans.linux.FanotifyResponder;
import dev.imans.linux.Leases;
import dev.imans.linux.LinuxException;
import dev.imans.linux.Native;
import dev.imans.linux.Poll;
import dev.imans.linux.Stat;
import java.lang.System.Logger.Level;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.locks.LockSupport;

/**
 * Agent: the modification watcher, one platform thread serving a notification (non-permission) group
 * with FAN_CLOSE_WRITE / FAN_MODIFY filesystem marks on every filesystem the permission group marks.
 *
 * <p>Owns: that group's events. For each: drop the file's ignore mark in the permission group, then
 * tell the {@link ModificationListener} (dev, ino) so caches forget the file. Writes through a shared
 * writable mapping raise no FS_MODIFY, so the kernel keeps the ignore mark through them; they are caught
 * at the open that made the mapping possible: ignore-marked inodes carry a FAN_OPEN mark here, and an
 * open after which the file has a writer drops the mark at once (the mapping's own FAN_CLOSE_WRITE
 * comes only when its last reference goes, which may be long after the writes). Attribute changes of
 * ignore-marked files come from a second group, handled by {@link AttributeChanges} on this thread.
 *
 * <p>Must not: answer permission events (it has none), or open files by path.
 */
final class ModificationWatcher implements Runnable {
    private final FanotifyGroup group;
    private final EventFd wake;
    private final IgnoreMarks ignoreMarks;
    private final AttributeChanges attributes;
    private final ModificationListener listener;
    private final EngineMetrics metrics;
    private static final long BATCH_PAUSE_NANOS = 1_000_000;
    private static final long WRITES = Fanotify.FAN_CLOSE_WRITE | Fanotify.FAN_MODIFY;

    private final QuietLog listenerErrors = new QuietLog("modification listener failed");
    private final java.util.function.Consumer<Throwable> stopped;
    private final Runnable fault;

    /**
     * @param stopped told why, when the watcher stops on its own (not through {@code wake})
     * @param fault run at start and after each batch; throws only in tests that stop the watcher on purpose
     */
    ModificationWatcher(FanotifyGroup group, EventFd wake, IgnoreMarks ignoreMarks, AttributeChanges attributes,
            ModificationListener listener, EngineMetrics metrics, java.util.function.Consumer<Throwable> stopped,
            Runnable fault) {
        this.attributes = attributes;
        this.stopped = stopped;
        this.fault = fault;
        this.group = group;
        this.wake = wake;
        this.ignoreMarks = ignoreMarks;
        this.listener = listener;
        this.metrics = metrics;
    }

    @Override
    public void run() {
        try (FanotifyEvents events = new FanotifyEvents(64 * 1024);
                FanotifyEvents attributeEvents = new FanotifyEvents(16 * 1024);
                FanotifyResponder closer = new FanotifyResponder();
                Stat.Buffer st = new Stat.Buffer();
                Poll poll = new Poll(3);
                Arena arena = Arena.ofConfined()) {
            MemorySegment err = Native.errnoSegment(arena);
            poll.set(0, group.fd(), Poll.POLLIN);
            poll.set(1, wake.fd(), Poll.POLLIN);
            poll.set(2, attributes.group().fd(), Poll.POLLIN);
            while (true) {
                fault.run();
                int n = poll.await(-1);
                if (n == -Errno.EINTR) {
                    continue;
                }
                if (n < 0) {
                    throw new LinuxException("poll", -n, "fanotify notification group " + group.fd());
                }
                if (poll.revents(1) != 0) {
                    return;
                }
                if (poll.revents(2) != 0) {
                    attributes.drain(attributeEvents, st, err);
                }
                if (poll.revents(0) == 0) {
                    continue;
                }
                long r = events.read(group.fd());
                if (r == -Errno.EINTR || r == -Errno.EAGAIN) {
                    continue;
                }
                if (r < 0) {
                    throw new LinuxException("read", (int) -r, "fanotify notification group " + group.fd());
                }
                while (events.next()) {
                    int fd = events.fd();
                    if (fd < 0) {
                        continue;
                    }
                    long mask = events.mask();
                    // A bare open matters only if it left a writer (a failed probe counts as one: dropping
                    // a mark costs one more permission event, keeping a stale one costs integrity).
                    if ((mask & Fanotify.FAN_OPEN) != 0) {
                        metrics.ignoredOpens.increment();
                    }
                    if ((mask & WRITES) == 0 && Leases.openForWrite(err, fd) == 0) {
                        if (listener.wantsOpens() && st.fstat(fd) == 0) {
                            listener.opened(st.dev(), st.ino(), events.pid());
                        }
                        closer.closeFd(fd);
                        continue;
                    }
                    metrics.modifications.increment();
                    ignoreMarks.remove(fd);
                    if (st.fstat(fd) == 0) {
                        try {
                            listener.modified(st.dev(), st.ino(), mask);
                            if ((mask & WRITES) == 0) {
                                listener.openedWithWriter(st.dev(), st.ino(), fd, events.pid());
                            }
                        } catch (RuntimeException e) {
                            listenerErrors.log(Level.WARNING, e.toString(), e);
                        }
                    }
                    closer.closeFd(fd);
                }
                // Let events pile up for a moment: a reader that is not waiting costs openers no wake-up,
                // and queued events of one file merge. This delays only dropping marks that the kernel
                // itself already dropped on FS_MODIFY, and the shared-mapping probe, by BATCH_PAUSE.
                LockSupport.parkNanos(BATCH_PAUSE_NANOS);
            }
        } catch (Throwable t) {
            QuietLog.logger().log(Level.ERROR, "modification watcher stopped", t);
            stopped.accept(t);
        }
    }
}
