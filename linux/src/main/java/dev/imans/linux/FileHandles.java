package dev.imans.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * {@code open_by_handle_at(2)}: reaches the inode a fanotify FID event names ({@code struct file_handle},
 * as the kernel put it in the event) through a descriptor on the same filesystem. Needs
 * CAP_DAC_READ_SEARCH.
 */
public final class FileHandles {
    private static final MethodHandle OPEN_BY_HANDLE_AT = Native.withErrno("open_by_handle_at",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));

    private FileHandles() {}

    /**
     * Opens the inode of {@code handle} on the filesystem of {@code mountFd} with {@code flags}
     * ({@code O_PATH} raises no fanotify open event): the new descriptor, or {@code -errno} (ESTALE for
     * an inode that is gone).
     */
    public static int open(MemorySegment err, int mountFd, MemorySegment handle, int flags) {
        try {
            int fd = (int) OPEN_BY_HANDLE_AT.invokeExact(err, mountFd, handle, flags);
            return fd >= 0 ? fd : -Native.errno(err);
        } catch (Throwable t) {
            throw Native.linkageBug(t);
        }
    }
}
