package dev.imans.daemon.enforce;

import dev.imans.daemon.Log;
import dev.imans.daemon.fanotify.FanotifyEngine;
import dev.imans.daemon.health.Condition;
import dev.imans.daemon.health.Health;
import dev.imans.linux.Fd;
import dev.imans.linux.LinuxException;
import dev.imans.linux.Memfd;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
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

    /** {@code MFD_HUGETLB}, and where the log2 of the page size goes in memfd_create's flags. */
    private static final int MFD_HUGETLB = 0x0004;
    private static final int MFD_HUGE_SHIFT = 26;
    private static final Path HUGEPAGE_SIZES = Path.of("/sys/kernel/mm/hugepages");

    /**
     * Marks the kernel's internal hugetlbfs superblocks, one per huge page size, which hold the memfds
     * made with {@code MFD_HUGETLB}. Unlike the internal tmpfs they are not {@code SB_NOUSER}, so fanotify
     * takes a filesystem mark through such a memfd, and their opens and execs are judged like any file's
     * (label read, measured). Each is recorded in {@code filesystems} as hugetlbfs: no mount table shows
     * it. A size whose memfd cannot be made or marked is a degraded state ({@link
     * Condition#HUGETLBFS_UNMARKED}: its memfds' opens and execs are not judged) until a retry marks it.
     */
    static Hugetlb markHugetlb(FanotifyEngine engine, FilesystemTable filesystems, Set<String> fsTypes,
            Health health) {
        List<String> marked = new java.util.ArrayList<>();
        List<String> unmarked = new java.util.ArrayList<>();
        if (!fsTypes.isEmpty() && !fsTypes.contains("hugetlbfs")) {
            return Hugetlb.NONE;
        }
        List<String> sizes;
        try (var dirs = java.nio.file.Files.list(HUGEPAGE_SIZES)) {
            sizes = dirs.map(d -> d.getFileName().toString()).filter(n -> n.matches("hugepages-\\d+kB")).sorted()
                    .toList();
        } catch (java.io.IOException e) {
            return Hugetlb.NONE; // no huge pages in this kernel
        }
        for (String name : sizes) {
            long kib = Long.parseLong(name.substring("hugepages-".length(), name.length() - 2));
            String size = kib + " kB";
            try {
                markHugetlb(engine, filesystems, kib);
                marked.add(size);
            } catch (LinuxException | RuntimeException e) {
                unmarked.add(size);
                health.degrade(Condition.HUGETLBFS_UNMARKED, size, "cannot mark the kernel's internal hugetlbfs"
                        + " for " + size + " pages: " + e + "; opens and execs of MFD_HUGETLB memfds of that size"
                        + " are not checked", Optional.of(() -> markHugetlb(engine, filesystems, kib)));
            }
        }
        if (!marked.isEmpty()) {
            Log.info("enforcing on the kernel's internal hugetlbfs (MFD_HUGETLB memfds), pages of " + marked);
        }
        return new Hugetlb(List.copyOf(marked), List.copyOf(unmarked));
    }

    /** Marks the internal hugetlbfs of {@code kib} pages, through a throw-away memfd of that size. */
    private static void markHugetlb(FanotifyEngine engine, FilesystemTable filesystems, long kib)
            throws LinuxException {
        int log2 = Long.numberOfTrailingZeros(kib * 1024);
        try (Fd probe = Memfd.create("imans-probe", Memfd.MFD_CLOEXEC | MFD_HUGETLB | log2 << MFD_HUGE_SHIFT)) {
            engine.markFilesystem(Path.of("/proc/self/fd/" + probe.value()));
            filesystems.internal(dev.imans.linux.Stat.fstat(probe.value()).dev(), "hugetlbfs");
        }
    }

    /** The huge page sizes whose internal hugetlbfs was marked at start, and those whose mark failed. */
    public record Hugetlb(List<String> marked, List<String> unmarked) {
        static final Hugetlb NONE = new Hugetlb(List.of(), List.of());
    }

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
