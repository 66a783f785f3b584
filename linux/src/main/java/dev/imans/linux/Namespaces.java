package dev.imans.linux;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * Mount namespace identity and entry: nsfs inodes ({@code /proc/PID/ns/mnt}), pidfds
 * ({@code pidfd_open(2)}, 5.3), {@code ioctl(PIDFD_GET_MNT_NAMESPACE)} (6.11),
 * {@code ioctl(NS_GET_MNTNS_ID)} (6.11; a 64-bit id never reused, unlike inode numbers),
 * {@code setns(2)}, {@code unshare(2)}.
 */
public final class Namespaces {
    /** clone flags, include/uapi/linux/sched.h. */
    public static final int CLONE_FS = 0x00000200;
    public static final int CLONE_NEWNS = 0x00020000;
    public static final int CLONE_NEWCGROUP = 0x02000000;
    public static final int CLONE_NEWUTS = 0x04000000;
    public static final int CLONE_NEWIPC = 0x08000000;
    public static final int CLONE_NEWUSER = 0x10000000;
    public static final int CLONE_NEWPID = 0x20000000;
    public static final int CLONE_NEWNET = 0x40000000;
    /** {@code _IO(PIDFS_IOCTL_MAGIC 0xFF, 3)}, include/uapi/linux/pidfd.h. */
    public static final long PIDFD_GET_MNT_NAMESPACE = 0xFF03L;
    /** {@code _IOR(NSIO 0xb7, 0x5, __u64)}, include/uapi/linux/nsfs.h. */
    public static final long NS_GET_MNTNS_ID = 0x8008b705L;
    /** {@code _IO(NSIO, 0x3)}: the CLONE_NEW* type of an nsfs descriptor. */
    public static final long NS_GET_NSTYPE = 0xb703L;

    private static final MethodHandle SETNS = Native.withErrno("setns",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle UNSHARE = Native.withErrno("unshare",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle PIDFD_OPEN = Native.withErrno("pidfd_open",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));

    private Namespaces() {}

    /** The nsfs inode of {@code pid}'s mount namespace (what {@code readlink /proc/PID/ns/mnt} shows). */
    public static long mountNamespaceInode(int pid) throws LinuxException {
        return Stat.stat(Path.of("/proc/" + pid + "/ns/mnt")).ino();
    }

    /** The nsfs inode of this process's mount namespace. */
    public static long ownMountNamespaceInode() throws LinuxException {
        return Stat.stat(Path.of("/proc/self/ns/mnt")).ino();
    }

    /** Opens {@code pid}'s mount namespace: holding the descriptor pins the namespace (and its inode number). */
    public static Fd openMountNamespace(int pid) throws LinuxException {
        return Fd.open(Path.of("/proc/" + pid + "/ns/mnt"), Fd.O_RDONLY);
    }

    /** {@code pidfd_open(pid, 0)}. */
    public static Fd pidfdOpen(int pid) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment err = Native.errnoSegment(arena);
            int fd = (int) PIDFD_OPEN.invokeExact(err, pid, 0);
            if (fd < 0) {
                throw new LinuxException("pidfd_open", Native.errno(err), "pid " + pid);
            }
            return Fd.adopt(fd);
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw Native.linkageBug(t);
        }
    }

    /**
     * The mount namespace of the process behind {@code pidfd}, as an nsfs descriptor (Linux 6.11+;
     * older kernels fail with ENOTTY, then use {@link #mountNamespaceInode(int)} while the process is
     * known to be alive).
     */
    public static Fd mountNamespaceOfPidfd(int pidfd) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            int fd = Unistd.ioctl(Native.errnoSegment(arena), pidfd, PIDFD_GET_MNT_NAMESPACE, 0L);
            if (fd < 0) {
                throw new LinuxException("ioctl(PIDFD_GET_MNT_NAMESPACE)", -fd, "pidfd " + pidfd);
            }
            return Fd.adopt(fd);
        }
    }

    /**
     * Hot-path form for an event's pidfd: the nsfs inode of the opener's mount namespace, or
     * {@code -errno} (ENOTTY before 6.11, ESRCH when the process is gone). Allocation-free with a
     * caller-owned capture segment and statx buffer; opens and closes one nsfs descriptor.
     */
    public static long mountNamespaceInodeOfPidfd(MemorySegment err, int pidfd, Stat.Buffer st) {
        int ns = Unistd.ioctl(err, pidfd, PIDFD_GET_MNT_NAMESPACE, 0L);
        if (ns < 0) {
            return ns;
        }
        int errno = st.fstat(ns);
        Unistd.close(err, ns);
        return errno == 0 ? st.ino() : -errno;
    }

    /** The 64-bit mount namespace id of an nsfs descriptor ({@code NS_GET_MNTNS_ID}, 6.11+). */
    public static long mountNamespaceId(int nsFd) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment id = arena.allocate(JAVA_LONG);
            int rc = Unistd.ioctl(Native.errnoSegment(arena), nsFd, NS_GET_MNTNS_ID, id);
            if (rc < 0) {
                throw new LinuxException("ioctl(NS_GET_MNTNS_ID)", -rc, "fd " + nsFd);
            }
            return id.get(JAVA_LONG, 0);
        }
    }

    /** The CLONE_NEW* type of an nsfs descriptor ({@code NS_GET_NSTYPE}, 4.11+). */
    public static int namespaceType(int nsFd) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            int rc = Unistd.ioctl(Native.errnoSegment(arena), nsFd, NS_GET_NSTYPE, 0L);
            if (rc < 0) {
                throw new LinuxException("ioctl(NS_GET_NSTYPE)", -rc, "fd " + nsFd);
            }
            return rc;
        }
    }

    /**
     * {@code setns(fd, nstype)} for the calling thread. For a mount namespace the thread must not share
     * its fs state: in a JVM every thread does, so call {@code unshare(CLONE_FS)} first, on a dedicated
     * platform thread ({@link #callInMountNamespace} does both).
     */
    public static void setns(int fd, int nstype) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment err = Native.errnoSegment(arena);
            int rc = (int) SETNS.invokeExact(err, fd, nstype);
            if (rc != 0) {
                throw new LinuxException("setns", Native.errno(err), "fd " + fd + ", type 0x" + Integer.toHexString(nstype));
            }
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw Native.linkageBug(t);
        }
    }

    /** {@code unshare(flags)} for the calling thread. */
    public static void unshare(int flags) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment err = Native.errnoSegment(arena);
            int rc = (int) UNSHARE.invokeExact(err, flags);
            if (rc != 0) {
                throw new LinuxException("unshare", Native.errno(err), "flags 0x" + Integer.toHexString(flags));
            }
        } catch (LinuxException e) {
            throw e;
        } catch (Throwable t) {
            throw Native.linkageBug(t);
        }
    }

    /**
     * Runs {@code task} inside the mount namespace {@code nsFd} and returns its result.
     *
     * <p>A fresh platform thread does {@code unshare(CLONE_FS)} (setns(CLONE_NEWNS) fails with EINVAL while
     * the thread shares fs state with the other JVM threads), then {@code setns}, runs the task, and
     * dies: no pooled or virtual thread ever carries the foreign namespace. Paths in the task resolve in
     * that namespace; {@code /proc/thread-self} may not resolve there (another pid namespace).
     */
    public static <T> T callInMountNamespace(int nsFd, Callable<T> task) throws Exception {
        CompletableFuture<T> result = new CompletableFuture<>();
        Thread t = Thread.ofPlatform().name("imans-setns").start(() -> {
            try {
                unshare(CLONE_FS);
                setns(nsFd, CLONE_NEWNS);
                result.complete(task.call());
            } catch (Throwable e) {
                result.completeExceptionally(e);
            }
        });
        try {
            return result.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception ex) {
                throw ex;
            }
            throw e;
        } finally {
            t.join();
        }
    }
}
