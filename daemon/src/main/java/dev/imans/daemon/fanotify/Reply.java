package dev.imans.daemon.fanotify;

import dev.imans.linux.FanotifyGroup;
import dev.imans.linux.FanotifyResponder;

/**
 * Writes one answer and then closes the event's descriptors: the kernel matches answers by fd number,
 * so the fd must stay open until the answer is written, and closing it right after keeps the daemon's
 * descriptor table small. Shared by the reader, the workers and shutdown; each passes its own responder.
 */
final class Reply {
    private final FanotifyGroup group;
    private final EngineMetrics metrics;

    Reply(FanotifyGroup group, EngineMetrics metrics) {
        this.group = group;
        this.metrics = metrics;
    }

    /**
     * Answers {@code verdict} (ALLOW or DENY) for {@code fd}, then closes {@code fd} and {@code pidfd}; 0 or
     * errno. {@code readNanos} is when the event was read: the answer's latency goes to the histogram.
     */
    int send(FanotifyResponder responder, int fd, int pidfd, Verdict verdict, long readNanos) {
        int errno = answer(responder, fd, verdict, readNanos);
        close(responder, fd, pidfd);
        return errno;
    }

    /** Answers {@code verdict} for {@code fd} and leaves the descriptors open (their user still runs). */
    int answer(FanotifyResponder responder, int fd, Verdict verdict, long readNanos) {
        int errno = responder.respond(group.fd(), fd, verdict.response());
        if (errno == 0) {
            metrics.count(verdict);
            metrics.latency(System.nanoTime() - readNanos);
        } else {
            metrics.responseErrors.increment();
        }
        return errno;
    }

    void close(FanotifyResponder responder, int fd, int pidfd) {
        responder.closeFd(fd);
        responder.closeFd(pidfd);
    }
}
