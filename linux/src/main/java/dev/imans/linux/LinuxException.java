package dev.imans.linux;

import java.io.IOException;

/** A failed system call: which call, on what, and the errno it returned. */
public class LinuxException extends IOException {
    private final String call;
    private final Errno errno;
    private final String subject;

    public LinuxException(String call, int errno, String subject) {
        super(call + (subject == null ? "" : "(" + subject + ")") + " failed: "
                + new Errno(errno).name() + " (" + new Errno(errno).message() + ")");
        this.call = call;
        this.errno = new Errno(errno);
        this.subject = subject;
    }

    public String call() {
        return call;
    }

    public Errno errno() {
        return errno;
    }

    public int errnoValue() {
        return errno.value();
    }

    /** The path or descriptor the call acted on, or {@code null}. */
    public String subject() {
        return subject;
    }
}
