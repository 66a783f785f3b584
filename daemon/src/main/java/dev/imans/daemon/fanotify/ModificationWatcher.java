package dev.imans.daemon.fanotify;

import dev.imans.linux.Errno;
import dev.imans.linux.EventFd;
import dev.imans.linux.FanotifyEvents;
import dev.imans.linux.LinuxException;
import dev.imans.linux.Poll;
import java.lang.System.Logger.Level;
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
 * What each event does is {@link Modifications}'s, which a deciding thread also drains itself when it
 * must not wait for the next batch.
 *
 * <p>Must not: answer permission events (it has none), or open files by path.
 */
final class ModificationWatcher implements Runnable {
    private final Modifications modifications;
    private final EventFd wake;
    private final AttributeChanges attributes;
    private static final long BATCH_PAUSE_NANOS = 1_000_000;

    private final java.util.function.Consumer<Throwable> stopped;
    private final Runnable fault;
    /**
     * {@link System#nanoTime} (odd, so never 0) when the work under way began; 0 while it waits for
     * events or pauses between batches. Read by the engine's watchdog ({@link #busyFor}).
     */
    private volatile long busySince;

    /**
     * @param stopped told why, when the watcher stops on its own (not through {@code wake})
     * @param fault run at start and after each batch; throws only in tests that stop the watcher on purpose
     */
    ModificationWatcher(Modifications modifications, EventFd wake, AttributeChanges attributes,
            java.util.function.Consumer<Throwable> stopped, Runnable fault) {
        this.modifications = modifications;
        this.attributes = attributes;
        this.stopped = stopped;
        this.fault = fault;
        this.wake = wake;
    }

    @Override
    public void run() {
        try (Modifications.Buffers buffers = new Modifications.Buffers(64 * 1024);
                FanotifyEvents attributeEvents = new FanotifyEvents(16 * 1024);
                Poll poll = new Poll(3)) {
            poll.set(0, modifications.group().fd(), Poll.POLLIN);
            poll.set(1, wake.fd(), Poll.POLLIN);
            poll.set(2, attributes.group().fd(), Poll.POLLIN);
            while (true) {
                busySince = System.nanoTime() | 1;
                fault.run();
                busySince = 0;
                int n = poll.await(-1);
                busySince = System.nanoTime() | 1;
                if (n == -Errno.EINTR) {
                    continue;
                }
                if (n < 0) {
                    throw new LinuxException("poll", -n, "fanotify notification group " + modifications.group().fd());
                }
                if (poll.revents(1) != 0) {
                    return;
                }
                if (poll.revents(2) != 0) {
                    attributes.drain(attributeEvents, buffers.st, buffers.err);
                }
                if (poll.revents(0) == 0) {
                    continue;
                }
                // Empty by now if a deciding thread caught up meanwhile: the group does not block.
                modifications.batch(buffers);
                busySince = 0;
                // Let events pile up for a moment: a reader that is not waiting costs openers no wake-up,
                // and queued events of one file merge. This delays only dropping marks that the kernel
                // itself already dropped on FS_MODIFY, and the shared-mapping probe, by BATCH_PAUSE; a
                // decision that must not wait for it reads the group itself (Modifications#catchUp).
                LockSupport.parkNanos(BATCH_PAUSE_NANOS);
            }
        } catch (Throwable t) {
            busySince = 0;
            QuietLog.logger().log(Level.ERROR, "modification watcher stopped", t);
            stopped.accept(t);
        }
    }

    /** How long the work under way has taken at {@code now}: 0 while waiting or pausing. */
    long busyFor(long now) {
        long since = busySince;
        return since == 0 ? 0 : now - since;
    }
}
