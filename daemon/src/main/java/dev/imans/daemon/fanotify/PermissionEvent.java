package dev.imans.daemon.fanotify;

import dev.imans.linux.Fanotify;
import dev.imans.linux.Stat;

/**
 * One permission event as the decider sees it: the event's descriptors, the opener, the mask, and the
 * file facts the engine already read with {@code fstat} on the event descriptor.
 *
 * <p>On the reader thread one instance is refilled for every event (no allocation per event);
 * deferred events get a {@link #copy()}. The descriptors belong to the engine: it answers, then closes
 * them.
 */
public final class PermissionEvent {
    private int fd;
    private int pid;
    private int pidfd;
    private long mask;
    private int mode;
    private int uid;
    private int gid;
    private long dev;
    private long ino;
    private long size;
    private long mtimeSec;
    private int mtimeNsec;
    private long ctimeSec;
    private int ctimeNsec;
    private long uniqueMountId;
    private Object note;
    private Object afterAnswer;
    /** Whether the writes queued before this event were read ({@link #caughtUp()}). */
    private boolean caughtUp;
    /** Whether {@link #pid} is the opening thread's id (FAN_REPORT_TID), not its thread group's. */
    private boolean pidIsThread;
    /** {@link System#nanoTime} when the daemon read the batch holding this event (decision latency). */
    private long readNanos;

    PermissionEvent() {}

    /** From {@code st} as {@link Stat.Buffer#fstatUniqueMount} filled it. */
    void fill(int fd, int pid, int pidfd, long mask, Stat.Buffer st) {
        this.fd = fd;
        this.pid = pid;
        this.pidfd = pidfd;
        this.mask = mask;
        this.mode = st.mode();
        this.uid = st.uid();
        this.gid = st.gid();
        this.dev = st.dev();
        this.ino = st.ino();
        this.size = st.size();
        this.mtimeSec = st.mtimeSec();
        this.mtimeNsec = st.mtimeNsec();
        this.ctimeSec = st.ctimeSec();
        this.ctimeNsec = st.ctimeNsec();
        this.uniqueMountId = st.uniqueMountId();
        this.note = null;
        this.afterAnswer = null;
        this.caughtUp = false;
        this.pidIsThread = false;
    }

    /** Set after {@link #fill} when the group reports thread ids. */
    void pidIsThread(boolean thread) {
        this.pidIsThread = thread;
    }

    void readAt(long nanos) {
        this.readNanos = nanos;
    }

    long readNanos() {
        return readNanos;
    }

    /** A detached copy (for deferral and for tests); descriptors are the same numbers. */
    public PermissionEvent copy() {
        PermissionEvent c = new PermissionEvent();
        c.fd = fd;
        c.pid = pid;
        c.pidfd = pidfd;
        c.mask = mask;
        c.mode = mode;
        c.uid = uid;
        c.gid = gid;
        c.dev = dev;
        c.ino = ino;
        c.size = size;
        c.mtimeSec = mtimeSec;
        c.mtimeNsec = mtimeNsec;
        c.ctimeSec = ctimeSec;
        c.ctimeNsec = ctimeNsec;
        c.uniqueMountId = uniqueMountId;
        c.note = note;
        c.afterAnswer = afterAnswer;
        c.caughtUp = caughtUp;
        c.pidIsThread = pidIsThread;
        c.readNanos = readNanos;
        return c;
    }

    /**
     * Whether the decider has read the modifications queued before this event (a catch-up is once per
     * event; the copy a worker gets keeps it). Cleared for every new event.
     */
    public boolean caughtUp() {
        return caughtUp;
    }

    public void markCaughtUp() {
        this.caughtUp = true;
    }

    /**
     * Keeps what the decider learnt about this event on the reader thread, so that its cold path
     * ({@link Decider#decideDeferred}, given a {@link #copy()}) need not learn it again. Cleared for every
     * new event.
     */
    public void attach(Object note) {
        this.note = note;
    }

    /**
     * Work the decider leaves for {@link Decider#answered}, which the engine calls once the answer is
     * written and before the descriptors are closed: what need not hold the opener (an ignore mark).
     * Cleared for every new event.
     */
    public void afterAnswer(Object work) {
        this.afterAnswer = work;
    }

    /** What {@link #afterAnswer} left; null if nothing. */
    public Object afterAnswerWork() {
        return afterAnswer;
    }

    /** What the decider {@linkplain #attach attached} to this event; null if nothing. */
    public Object attachment() {
        return note;
    }

    /** The opened file, read-only, opened by the kernel for the daemon (reading it raises no events). */
    public int fd() {
        return fd;
    }

    /**
     * The opener's pid in the daemon's pid namespace (0 if it is not visible there): the opening
     * thread's id when {@link #pidIsThread()}, else its thread group's.
     */
    public int pid() {
        return pid;
    }

    /**
     * Whether {@link #pid()} names the opening thread itself: its {@code /proc/PID} entries are then that
     * thread's credentials, mount namespace and current call, whatever the other threads do.
     */
    public boolean pidIsThread() {
        return pidIsThread;
    }

    /** The opener's pidfd, or a negative FAN_NOPIDFD / FAN_EPIDFD when the group has none for it. */
    public int pidfd() {
        return pidfd;
    }

    public long mask() {
        return mask;
    }

    /** Whether this is the exec half ({@code FAN_OPEN_EXEC_PERM}: execve, ELF or script interpreter). */
    public boolean isExec() {
        return (mask & Fanotify.FAN_OPEN_EXEC_PERM) != 0;
    }

    public int mode() {
        return mode;
    }

    public int uid() {
        return uid;
    }

    public int gid() {
        return gid;
    }

    /** {@code major << 32 | minor} of the file's device. */
    public long dev() {
        return dev;
    }

    public long ino() {
        return ino;
    }

    public long size() {
        return size;
    }

    public long mtimeSec() {
        return mtimeSec;
    }

    public int mtimeNsec() {
        return mtimeNsec;
    }

    public long ctimeSec() {
        return ctimeSec;
    }

    public int ctimeNsec() {
        return ctimeNsec;
    }

    /**
     * The unique id of the mount the file was opened through ({@code STATX_MNT_ID_UNIQUE}), never reused
     * while the system runs; 0 where the kernel has none.
     */
    public long uniqueMountId() {
        return uniqueMountId;
    }

    @Override
    public String toString() {
        return "PermissionEvent[" + Fanotify.maskName(mask) + " fd " + fd + " pid " + pid + " dev 0x"
                + Long.toHexString(dev) + " ino " + ino + "]";
    }
}
