package dev.imans.linux;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/**
 * A reusable batch buffer for a fanotify group and a cursor over the events in it: one
 * {@code read(2)} fills the buffer, {@link #next()} steps through the events, the accessors read the
 * current one straight from native memory. Nothing is allocated per event.
 *
 * <pre>
 * struct fanotify_event_metadata {        include/uapi/linux/fanotify.h
 *   0  __u32 event_len;                   whole event, info records included
 *   4  __u8  vers;                        FANOTIFY_METADATA_VERSION (3)
 *   5  __u8  reserved;
 *   6  __u16 metadata_len;                24
 *   8  __aligned_u64 mask;
 *  16  __s32 fd;                          FAN_NOFD for overflow events
 *  20  __s32 pid;                         opener, in the reader's pid namespace (0 if invisible)
 * };                                      24 bytes, then info records:
 * struct fanotify_event_info_header { __u8 info_type; __u8 pad; __u16 len; };
 * struct fanotify_event_info_pidfd  { header (type 4, len 8); __s32 pidfd; };
 * </pre>
 *
 * <p>One instance belongs to one thread at a time.
 */
public final class FanotifyEvents implements AutoCloseable {
    /** The kernel's struct fanotify_event_metadata. */
    public static final StructLayout METADATA = MemoryLayout.structLayout(
            JAVA_INT.withName("event_len"),
            JAVA_BYTE.withName("vers"),
            JAVA_BYTE.withName("reserved"),
            JAVA_SHORT.withName("metadata_len"),
            JAVA_LONG.withName("mask"),
            JAVA_INT.withName("fd"),
            JAVA_INT.withName("pid"));
    /** The kernel's struct fanotify_event_info_pidfd. */
    public static final StructLayout INFO_PIDFD = MemoryLayout.structLayout(
            JAVA_BYTE.withName("info_type"),
            JAVA_BYTE.withName("pad"),
            JAVA_SHORT.withName("len"),
            JAVA_INT.withName("pidfd"));

    private static final long OFF_EVENT_LEN = offset(METADATA, "event_len");
    private static final long OFF_VERS = offset(METADATA, "vers");
    private static final long OFF_METADATA_LEN = offset(METADATA, "metadata_len");
    private static final long OFF_MASK = offset(METADATA, "mask");
    private static final long OFF_FD = offset(METADATA, "fd");
    private static final long OFF_PID = offset(METADATA, "pid");
    private static final long OFF_INFO_TYPE = offset(INFO_PIDFD, "info_type");
    private static final long OFF_INFO_LEN = offset(INFO_PIDFD, "len");
    private static final long OFF_INFO_PIDFD = offset(INFO_PIDFD, "pidfd");
    private static final int INFO_HEADER_SIZE = 4;
    /** In {@code struct fanotify_event_info_fid}: the header, {@code __kernel_fsid_t} (two ints), the handle. */
    private static final int FID_FSID = 4;
    private static final int FID_HANDLE = 12;

    private final Arena arena;
    private final MemorySegment buffer;
    private final MemorySegment err;
    private long limit;
    private long position;
    private long current = -1;
    private int pidfd;
    private long fid = -1;
    private int fidLen;

    /** A buffer of {@code capacity} bytes (at least one event; fapolicyd reads 8192 events at a time). */
    public FanotifyEvents(int capacity) {
        if (capacity < METADATA.byteSize() + INFO_PIDFD.byteSize()) {
            throw new IllegalArgumentException("fanotify buffer too small: " + capacity);
        }
        this.arena = Arena.ofShared();
        this.buffer = arena.allocate(capacity, 8);
        this.err = Native.errnoSegment(arena);
    }

    /**
     * Reads one batch from {@code groupFd} (blocking unless the group is non-blocking) and rewinds the
     * cursor: the byte count, or {@code -errno} (EAGAIN, EINTR...).
     */
    public long read(int groupFd) {
        long n = Unistd.read(err, groupFd, buffer, buffer.byteSize());
        limit = Math.max(n, 0);
        position = 0;
        current = -1;
        return n;
    }

    /**
     * Moves to the next event of the batch; false when the batch is used up.
     *
     * @throws IllegalStateException if the kernel speaks another metadata version or a length is
     *     inconsistent: nothing after that point can be trusted
     */
    public boolean next() {
        if (position + METADATA.byteSize() > limit) {
            current = -1;
            return false;
        }
        long base = position;
        int len = buffer.get(JAVA_INT_UNALIGNED, base + OFF_EVENT_LEN);
        int vers = buffer.get(JAVA_BYTE, base + OFF_VERS) & 0xff;
        int metaLen = buffer.get(JAVA_SHORT_UNALIGNED, base + OFF_METADATA_LEN) & 0xffff;
        if (vers != Fanotify.FANOTIFY_METADATA_VERSION || len < metaLen || metaLen < METADATA.byteSize()
                || base + len > limit) {
            current = -1;
            throw new IllegalStateException("malformed fanotify event at " + base + ": vers " + vers
                    + ", event_len " + len + ", metadata_len " + metaLen + ", batch " + limit);
        }
        current = base;
        position = base + len;
        pidfd = Fanotify.FAN_NOPIDFD;
        fid = -1;
        long info = base + metaLen;
        long end = base + len;
        while (info + INFO_HEADER_SIZE <= end) {
            int type = buffer.get(JAVA_BYTE, info + OFF_INFO_TYPE) & 0xff;
            int infoLen = buffer.get(JAVA_SHORT_UNALIGNED, info + OFF_INFO_LEN) & 0xffff;
            if (infoLen < INFO_HEADER_SIZE || info + infoLen > end) {
                break;
            }
            if (type == Fanotify.FAN_EVENT_INFO_TYPE_PIDFD && infoLen >= INFO_PIDFD.byteSize()) {
                pidfd = buffer.get(JAVA_INT_UNALIGNED, info + OFF_INFO_PIDFD);
            } else if (type == Fanotify.FAN_EVENT_INFO_TYPE_FID && infoLen >= FID_HANDLE + 8) {
                fid = info;
                fidLen = infoLen;
            }
            info += infoLen;
        }
        return true;
    }

    public long mask() {
        return buffer.get(JAVA_LONG_UNALIGNED, at() + OFF_MASK);
    }

    /** The event's file descriptor, owned by the reader: answer first, then close it. */
    public int fd() {
        return buffer.get(JAVA_INT_UNALIGNED, at() + OFF_FD);
    }

    public int pid() {
        return buffer.get(JAVA_INT_UNALIGNED, at() + OFF_PID);
    }

    /**
     * The pidfd of the opener when the group reports them: a descriptor the reader must close,
     * {@link Fanotify#FAN_NOPIDFD} (none, or the process is gone) or {@link Fanotify#FAN_EPIDFD}.
     */
    public int pidfd() {
        at();
        return pidfd;
    }

    /** Whether the event carries a file identifier (a {@code FAN_REPORT_FID} group's events do). */
    public boolean hasFid() {
        at();
        return fid >= 0;
    }

    /** The first int of the identified object's {@code __kernel_fsid_t} ({@code statfs}'s {@code f_fsid}). */
    public int fsid0() {
        return buffer.get(JAVA_INT_UNALIGNED, fidAt() + FID_FSID);
    }

    public int fsid1() {
        return buffer.get(JAVA_INT_UNALIGNED, fidAt() + FID_FSID + 4);
    }

    /** The object's {@code struct file_handle}, as {@code open_by_handle_at} takes it; valid until the next read. */
    public MemorySegment fileHandle() {
        long at = fidAt();
        return buffer.asSlice(at + FID_HANDLE, fidLen - FID_HANDLE);
    }

    private long fidAt() {
        at();
        if (fid < 0) {
            throw new IllegalStateException("the fanotify event carries no file identifier");
        }
        return fid;
    }

    public int eventLength() {
        return buffer.get(JAVA_INT_UNALIGNED, at() + OFF_EVENT_LEN);
    }

    private long at() {
        if (current < 0) {
            throw new IllegalStateException("no current fanotify event");
        }
        return current;
    }

    @Override
    public void close() {
        arena.close();
    }

    private static long offset(StructLayout layout, String field) {
        return layout.byteOffset(MemoryLayout.PathElement.groupElement(field));
    }
}
