package dev.imans.daemon.fanotify;

import dev.imans.linux.Errno;
import dev.imans.linux.EventFd;
import dev.imans.linux.Fanotify;
import dev.imans.linux.FanotifyEvents;
import dev.imans.linux.FanotifyGroup;
import dev.imans.linux.FanotifyResponder;
import dev.imans.linux.LinuxException;
import dev.imans.linux.Poll;
import dev.imans.linux.Signals;
import dev.imans.linux.Stat;
import java.lang.System.Logger.Level;

/**
 * Agent: the reader, one platform thread serving one permission group.
 *
 * <p>Owns: the group's event stream, its batch buffer, and every event until it is answered or handed to
 * the workers. For each event, in order: the daemon's own process (same tgid; with thread ids, one
 * {@code tgkill(self, tid, 0)} tells) is allowed at once (in a
 * filesystems group, after {@link BackingMounts} has looked at its mount); files
 * that are not regular (FIFOs, devices, sockets, directories: nothing to appraise) are allowed at once;
 * otherwise the decider's fast path answers, or the event is deferred to the workers. Answers go out as
 * soon as they are known; logging comes after the answer; the work that follows an answer (ignore
 * marks) goes to the {@link Marker}. Nothing here allocates per event but the marker's copy.
 *
 * <p>Must not: hash, block, log before answering, or open any file by path (a file on a marked
 * filesystem would raise an event only this thread can answer: a deadlock). Every class it uses is
 * loaded before the first event (see {@link FanotifyEngine#start}).
 */
final class PermissionReader implements Runnable {
    private static final long PERM = Fanotify.FAN_ALL_PERM_EVENTS;

    private final FanotifyGroup group;
    private final EventFd wake;
    private final Decider decider;
    private final DecisionWorkers workers;
    private final Reply reply;
    private final EngineMetrics metrics;
    private final EngineConfig config;
    private final int selfPid;
    /** Whether events name the opening thread (FAN_REPORT_TID): the daemon's own are then any of its threads. */
    private final boolean threadIds;
    private final Runnable failOpen;
    /** Null in an overlays group, whose own opens are never through an overlay's private mounts. */
    private final BackingMounts backing;
    private final Marker marker;
    private final PermissionEvent event = new PermissionEvent();
    private final QuietLog decisionErrors = new QuietLog("decision failed, answered by policy");
    private final QuietLog overload = new QuietLog("decision workers saturated, answered by policy");
    private final QuietLog overflow = new QuietLog("fanotify queue overflowed: the kernel allowed opens unanswered");
    private final QuietLog statErrors = new QuietLog("fstat of an event fd failed, answered by policy");
    private volatile Throwable failure;

    BackingMounts backing() {
        return backing;
    }

    PermissionReader(FanotifyGroup group, EventFd wake, Decider decider, DecisionWorkers workers, Reply reply,
            EngineMetrics metrics, EngineConfig config, int selfPid, Runnable failOpen, BackingMounts backing,
            Marker marker) {
        this.backing = backing;
        this.marker = marker;
        this.group = group;
        this.wake = wake;
        this.decider = decider;
        this.workers = workers;
        this.reply = reply;
        this.metrics = metrics;
        this.config = config;
        this.selfPid = selfPid;
        this.threadIds = group.reportsTid();
        this.failOpen = failOpen;
    }

    @Override
    public void run() {
        try (FanotifyEvents events = new FanotifyEvents(config.bufferBytes());
                FanotifyResponder responder = new FanotifyResponder();
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
                    throw new LinuxException("poll", -n, "fanotify group " + group.fd());
                }
                if (poll.revents(1) != 0) {
                    return;
                }
                int revents = poll.revents(0);
                if ((revents & (Poll.POLLERR | Poll.POLLNVAL)) != 0) {
                    throw new IllegalStateException("fanotify group " + group.fd() + " failed, revents 0x"
                            + Integer.toHexString(revents));
                }
                long r = events.read(group.fd());
                if (r == -Errno.EINTR || r == -Errno.EAGAIN) {
                    continue;
                }
                if (r < 0) {
                    throw new LinuxException("read", (int) -r, "fanotify group " + group.fd());
                }
                long readAt = System.nanoTime();
                while (events.next()) {
                    handle(events, responder, st, readAt);
                }
            }
        } catch (Throwable t) {
            failure = t;
            // Nobody reads the group any more: release it so the kernel allows what is queued and held,
            // instead of leaving every opener on the marked filesystems waiting forever.
            failOpen.run();
            QuietLog.logger().log(Level.ERROR, "fanotify reader stopped; the group was released (fail open)", t);
        }
    }

    /** {@link Decider#answered}, for an event answered with the decider's verdict; never throws. */
    static void answered(Decider decider, PermissionEvent event) {
        if (event.afterAnswerWork() == null) {
            return;
        }
        try {
            decider.answered(event);
        } catch (Throwable t) {
            QuietLog.logger().log(Level.ERROR, "after an answer", t);
        }
    }

    /** Why the reader stopped on its own, or null. */
    Throwable failure() {
        return failure;
    }

    private void handle(FanotifyEvents events, FanotifyResponder responder, Stat.Buffer st, long readAt) {
        long mask = events.mask();
        int fd = events.fd();
        int pidfd = events.pidfd();
        if ((mask & Fanotify.FAN_Q_OVERFLOW) != 0) {
            metrics.overflows.increment();
            responder.closeFd(pidfd);
            overflow.log(Level.ERROR, "FAN_Q_OVERFLOW", null);
            return;
        }
        if (fd < 0 || (mask & PERM) == 0) {
            responder.closeFd(fd);
            responder.closeFd(pidfd);
            return;
        }
        metrics.events.increment();
        int pid = events.pid();
        if (pid == selfPid || threadIds && Signals.isThreadOf(selfPid, pid)) {
            if (backing != null) {
                backing.selfOpen(fd, st);
            }
            reply.send(responder, fd, pidfd, Verdict.ALLOW, readAt);
            metrics.selfAllowed.increment();
            return;
        }
        int statErrno = st.fstatUniqueMount(fd);
        if (statErrno != 0) {
            reply.send(responder, fd, pidfd, config.onDecisionError().verdict(), readAt);
            metrics.decisionErrors.increment();
            statErrors.log(Level.WARNING, new Errno(statErrno).name() + " for pid " + pid, null);
            return;
        }
        if ((st.mode() & Stat.S_IFMT) != Stat.S_IFREG) {
            reply.send(responder, fd, pidfd, Verdict.ALLOW, readAt);
            metrics.specialAllowed.increment();
            return;
        }
        event.fill(fd, pid, pidfd, mask, st);
        event.pidIsThread(threadIds);
        event.readAt(readAt);
        Verdict v;
        Throwable thrown = null;
        try {
            v = decider.decide(event);
        } catch (Throwable t) {
            v = null;
            thrown = t;
        }
        if (v == Verdict.ALLOW || v == Verdict.DENY) {
            reply.answer(responder, fd, v, readAt);
            if (event.afterAnswerWork() != null && marker.offer(event.copy())) {
                responder.closeFd(pidfd);
                return;
            }
            answered(decider, event);
            reply.close(responder, fd, pidfd);
        } else if (v == Verdict.DEFER) {
            // Counted first: a worker may answer before submit returns, and a count that follows the
            // answer is one a reader of the metrics can miss.
            metrics.deferred.increment();
            if (!workers.submit(event.copy())) {
                metrics.deferred.decrement();
                reply.send(responder, fd, pidfd, config.onOverload().verdict(), readAt);
                metrics.overloaded.increment();
                overload.log(Level.WARNING, "pid " + pid, null);
            }
        } else {
            reply.send(responder, fd, pidfd, config.onDecisionError().verdict(), readAt);
            metrics.decisionErrors.increment();
            decisionErrors.log(Level.WARNING, "pid " + pid + " ino " + event.ino() + ": "
                    + (thrown == null ? "decider returned null" : thrown.toString()), thrown);
        }
    }
}
