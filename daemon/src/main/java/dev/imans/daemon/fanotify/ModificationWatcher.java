package dev.imans.daemon.fanotify;

import dev.imans.linux.Errno;
import dev.imans.linux.EventFd;
import dev.imans.linux.FanotifyEvents;
import dev.imans.linux.FanotifyGroup;
import dev.imans.linux.FanotifyResponder;
import dev.imans.linux.LinuxException;
import dev.imans.linux.Poll;
import dev.imans.linux.Stat;
import java.lang.System.Logger.Level;

/**
 * Agent: the modification watcher, one platform thread serving a notification (non-permission) group
 * with FAN_CLOSE_WRITE / FAN_MODIFY filesystem marks on every filesystem the permission group marks.
 *
 * <p>Owns: that group's events. For each: drop the file's ignore mark in the permission group, then
 * tell the {@link ModificationListener} (dev, ino) so caches forget the file. FAN_CLOSE_WRITE is what
 * covers writes through a shared writable mapping: they raise no FS_MODIFY, so the kernel keeps the
 * ignore mark, but the mapping holds a file reference and the close is reported when the last one goes.
 *
 * <p>Must not: answer permission events (it has none), or open files by path.
 */
final class ModificationWatcher implements Runnable {
    private final FanotifyGroup group;
    private final EventFd wake;
    private final IgnoreMarks ignoreMarks;
    private final ModificationListener listener;
    private final EngineMetrics metrics;
    private final QuietLog listenerErrors = new QuietLog("modification listener failed");

    ModificationWatcher(FanotifyGroup group, EventFd wake, IgnoreMarks ignoreMarks, ModificationListener listener,
            EngineMetrics metrics) {
        this.group = group;
        this.wake = wake;
        this.ignoreMarks = ignoreMarks;
        this.listener = listener;
        this.metrics = metrics;
    }

    @Override
    public void run() {
        try (FanotifyEvents events = new FanotifyEvents(64 * 1024);
                FanotifyResponder closer = new FanotifyResponder();
                Stat.Buffer st = new Stat.Buffer();
                Poll poll = new Poll(2)) {
            poll.set(0, group.fd(), Poll.POLLIN);
            poll.set(1, wake.fd(), Poll.POLLIN);
            while (true) {
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
                    metrics.modifications.increment();
                    ignoreMarks.remove(fd);
                    if (st.fstat(fd) == 0) {
                        try {
                            listener.modified(st.dev(), st.ino(), events.mask());
                        } catch (RuntimeException e) {
                            listenerErrors.log(Level.WARNING, e.toString(), e);
                        }
                    }
                    closer.closeFd(fd);
                }
            }
        } catch (Throwable t) {
            QuietLog.logger().log(Level.ERROR,
                    "modification watcher stopped: ignore marks are no longer dropped on writes", t);
        }
    }
}
