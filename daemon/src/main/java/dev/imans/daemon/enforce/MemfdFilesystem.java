package dev.imans.daemon.enforce;

import dev.imans.daemon.Log;
import dev.imans.daemon.fanotify.FanotifyEngine;
import dev.imans.linux.Fd;
import dev.imans.linux.LinuxException;
import dev.imans.linux.Memfd;
import java.nio.file.Path;
import java.util.Set;

/**
 * The kernel's internal tmpfs that holds every memfd ({@code shm_mnt}). A program written into a memfd
 * and executed ({@code fexecve}, {@code execveat(fd, "", AT_EMPTY_PATH)}, {@code execve("/proc/self/fd/N")})
 * is opened there, so only a mark on that superblock sees it; no mount table shows it, and the only
 * handle on it is a memfd's own descriptor.
 *
 * <p>Linux refuses filesystem and mount marks on it (fanotify_events_supported: EINVAL for
 * {@code SB_NOUSER} superblocks, which shmem_fill_super makes every kernel-internal tmpfs; checked on
 * 6.18). Execs of memfds are then judged by {@link MemfdExecGuard} where the kernel takes its BPF
 * program; re-opens of memfds are not judged, and neither are execs where the guard could not be
 * attached, which is logged and reported by {@link Enforcement#memfdFilesystem()}. A kernel that
 * accepts the mark gets it.
 */
public final class MemfdFilesystem {
    /**
     * Whether memfd opens are judged (the filesystem mark held; else the errno the kernel refused it
     * with), and whether their execs are judged by the exec guard (else why it could not be attached).
     */
    public record Status(boolean marked, String refusal, boolean execsGuarded, String guardRefusal) {
        static final Status NOT_WANTED = new Status(false, "not marked: --watch-fs excludes tmpfs", false,
                "not attached: --watch-fs excludes tmpfs");

        Status(boolean marked, String refusal) {
            this(marked, refusal, false, marked ? "not needed: the filesystem is marked" : "not tried");
        }

        /** Whether execs of memfds are judged, one way or the other. */
        public boolean execsJudged() {
            return marked || execsGuarded;
        }

        Status guarded(boolean attached, String why) {
            return new Status(marked, refusal, attached, why);
        }
    }

    private MemfdFilesystem() {}

    /** Tries the filesystem mark through a throw-away memfd; never throws. */
    static Status mark(FanotifyEngine engine, Set<String> fsTypes) {
        if (!fsTypes.isEmpty() && !fsTypes.contains("tmpfs")) {
            return Status.NOT_WANTED;
        }
        try (Fd probe = Memfd.create("imans-probe", Memfd.MFD_CLOEXEC)) {
            // The magic link resolves to the memfd's own path on the internal mount, which is what
            // fanotify_mark has to be given.
            engine.markFilesystem(Path.of("/proc/self/fd/" + probe.value()));
            Log.info("enforcing on the kernel's internal tmpfs (memfds)");
            return new Status(true, "");
        } catch (LinuxException e) {
            String why = e.errno().name();
            Log.info("fanotify refused a mark on the kernel's internal tmpfs (" + why + "): memfds are judged at"
                    + " exec by the exec guard where it attaches, never at open");
            return new Status(false, why);
        } catch (RuntimeException e) {
            Log.warn("cannot mark the kernel's internal tmpfs: " + e);
            return new Status(false, e.toString());
        }
    }
}
