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

    private static final MethodHandle NAME_TO_HANDLE_AT = Native.withErrno("name_to_handle_at",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT));

    private static final int AT_EMPTY_PATH = 0x1000;
    /** Linux 6.5: a handle that identifies the inode, asked of filesystems that cannot open by handle too. */
    private static final int AT_HANDLE_FID = 0x200;
    /** overlayfs's handle type ({@code OVL_FILEID_V1}): a layer's UUID and the real inode's own handle. */
    public static final int OVL_FILEID_V1 = 0xf8;
    private static final int MAX_HANDLE_SZ = 128;

    private FileHandles() {}

    /** A file handle: its type and bytes. */
    public record Handle(int type, byte[] bytes) {}

    /**
     * {@code name_to_handle_at(fd, "", AT_EMPTY_PATH | AT_HANDLE_FID)}: the identity the filesystem gives
     * the open file's inode. Empty where the filesystem or kernel gives none.
     */
    public static java.util.Optional<Handle> fid(int fd) {
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            MemorySegment err = Native.errnoSegment(arena);
            MemorySegment handle = arena.allocate(8 + MAX_HANDLE_SZ, 4);
            handle.set(JAVA_INT, 0, MAX_HANDLE_SZ);
            MemorySegment mountId = arena.allocate(JAVA_INT);
            int rc = (int) NAME_TO_HANDLE_AT.invokeExact(err, fd, arena.allocateFrom(""), handle, mountId,
                    AT_EMPTY_PATH | AT_HANDLE_FID);
            if (rc < 0) {
                return java.util.Optional.empty();
            }
            int bytes = handle.get(JAVA_INT, 0);
            byte[] out = new byte[Math.min(bytes, MAX_HANDLE_SZ)];
            MemorySegment.copy(handle, java.lang.foreign.ValueLayout.JAVA_BYTE, 8, out, 0, out.length);
            return java.util.Optional.of(new Handle(handle.get(JAVA_INT, 4), out));
        } catch (Throwable t) {
            throw Native.linkageBug(t);
        }
    }

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
