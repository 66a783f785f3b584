package dev.imans.daemon.enforce;

import dev.imans.daemon.Log;
import dev.imans.daemon.fanotify.FanotifyEngine;
import dev.imans.linux.Fd;
import dev.imans.linux.LinuxException;
import dev.imans.linux.MountInfo;
import dev.imans.linux.Mounts;
import dev.imans.linux.Poll;
import dev.imans.linux.Stat;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Agent: the mount tracker, one platform thread that keeps a filesystem mark on every filesystem the
 * host or a registered namespace can see.
 *
 * <p>Owns: the set of marked superblocks (by device number) and one open {@code /proc/PID/mountinfo}
 * per watched namespace. A namespace's mounts are read through a member's mountinfo and marked through
 * {@code /proc/PID/root/<mount point>}, so filesystems mounted only inside it are reached. Changes are
 * seen through poll(2) on those files (POLLPRI after any change of that namespace's mount table,
 * fs/proc_namespace.c mounts_poll) and, as a fallback, a full re-scan every few seconds. Unmounted
 * filesystems lose their marks in the kernel; they are forgotten here at the next scan.
 *
 * <p>Must not: mark what {@link MountFilter} refuses. Overlay mounts are replaced by the filesystems of
 * their layers (lowerdir/upperdir), reached through the same root.
 */
final class MountTracker implements AutoCloseable {
    private static final int POLL_MILLIS = 250;
    private static final long RESCAN_NANOS = 5_000_000_000L;

    private final FanotifyEngine engine;
    private final FilesystemTable table;
    private final NamespaceDirectory directory;
    private final MountFilter filter;
    private final boolean namespacesOnly;
    private final EnforcementMetrics metrics;
    private final Set<Long> marked = new HashSet<>();
    private final Set<Long> failed = new HashSet<>();
    private final Map<Integer, Fd> watches = new HashMap<>();
    private final Thread thread;
    private volatile boolean stopping;

    MountTracker(FanotifyEngine engine, FilesystemTable table, NamespaceDirectory directory, EnforcementConfig config,
            EnforcementMetrics metrics) {
        this.engine = engine;
        this.table = table;
        this.directory = directory;
        this.filter = new MountFilter(config.fsTypes());
        this.namespacesOnly = config.namespaceFilesystemsOnly();
        this.metrics = metrics;
        this.thread = Thread.ofPlatform().name("imans-mounts").daemon().unstarted(this::run);
    }

    /** Marks what is visible now, then keeps watching. */
    void start() {
        scan();
        thread.start();
    }

    /** Re-reads every namespace's mounts now (after a registration), marking what is new. */
    void scan() {
        // The directory is asked before this tracker's lock is taken: a registration calls scan() while
        // holding the registry's lock, and the tracker thread must never hold its own lock while it
        // waits for the registry's.
        scan(directory.members());
    }

    private synchronized void scan(List<NamespaceDirectory.Member> members) {
        Set<Long> seen = new HashSet<>();
        Set<Long> hostDevs = new HashSet<>();
        List<MountInfo> host;
        try {
            host = Mounts.readSelf();
        } catch (IOException | IllegalArgumentException e) {
            Log.error("cannot read /proc/self/mountinfo: " + e.getMessage());
            return;
        }
        Set<Long> present = new HashSet<>();
        for (MountInfo m : host) {
            table.learn(m);
            hostDevs.add(m.dev());
        }
        present.addAll(hostDevs);
        if (!namespacesOnly) {
            for (MountInfo m : host) {
                consider(m, "", host, seen);
            }
        }
        for (NamespaceDirectory.Member member : members) {
            List<MountInfo> mounts;
            try {
                mounts = Mounts.read(member.pid());
            } catch (IOException | IllegalArgumentException e) {
                continue;
            }
            String root = "/proc/" + member.pid() + "/root";
            for (MountInfo m : mounts) {
                table.learn(m);
                present.add(m.dev());
                if (namespacesOnly && hostDevs.contains(m.dev())) {
                    continue;
                }
                consider(m, root, mounts, seen);
            }
        }
        marked.retainAll(seen);
        failed.retainAll(seen);
        present.addAll(seen);
        table.retain(present);
        syncWatches(members);
    }

    private void consider(MountInfo m, String root, List<MountInfo> all, Set<Long> seen) {
        if (FilesystemTable.typeName(m.fsType()).equals("overlay")) {
            for (String layer : layers(m.superOptions())) {
                markPath(Path.of(root + layer), seen);
            }
            return;
        }
        if (!filter.marks(m)) {
            return;
        }
        seen.add(m.dev());
        if (marked.contains(m.dev()) || failed.contains(m.dev())) {
            return;
        }
        Path path = Path.of(root + m.mountPoint());
        try {
            // A mount point hidden under a later mount resolves to that other filesystem: mark only
            // when the path really leads to this one (another mount of it will do otherwise).
            if (Stat.stat(path).dev() != m.dev()) {
                seen.remove(m.dev());
                return;
            }
            engine.markFilesystem(path);
            marked.add(m.dev());
            metrics.filesystemsMarked.increment();
            Log.info("enforcing on " + m.fsType() + " " + path + " (dev " + m.major() + ":" + m.minor() + ")");
        } catch (LinuxException | IllegalArgumentException e) {
            failed.add(m.dev());
            Log.warn("cannot mark " + m.fsType() + " " + path + ": " + e.getMessage());
        }
    }

    private void markPath(Path layer, Set<Long> seen) {
        try {
            long dev = Stat.stat(layer).dev();
            seen.add(dev);
            if (marked.contains(dev) || failed.contains(dev) || Stat.statfs(layer).isOverlay()) {
                return;
            }
            engine.markFilesystem(layer);
            marked.add(dev);
            metrics.filesystemsMarked.increment();
            Log.info("enforcing on the overlay layers' filesystem at " + layer);
        } catch (LinuxException | IllegalArgumentException e) {
            Log.warn("cannot mark overlay layer " + layer + ": " + e.getMessage());
        }
    }

    /** The lowerdir (colon-separated, {@code \:} escaped) and upperdir paths of overlay super options. */
    static List<String> layers(String superOptions) {
        List<String> out = new ArrayList<>();
        for (String opt : superOptions.split(",")) {
            if (opt.startsWith("lowerdir=")) {
                for (String dir : opt.substring(9).split("(?<!\\\\):")) {
                    out.add(dir.replace("\\:", ":"));
                }
            } else if (opt.startsWith("upperdir=")) {
                out.add(opt.substring(9));
            }
        }
        return out;
    }

    private void syncWatches(List<NamespaceDirectory.Member> members) {
        Set<Integer> wanted = new HashSet<>();
        wanted.add(0);
        members.forEach(m -> wanted.add(m.pid()));
        watches.entrySet().removeIf(e -> {
            if (!wanted.contains(e.getKey())) {
                e.getValue().close();
                return true;
            }
            return false;
        });
        for (int pid : wanted) {
            if (!watches.containsKey(pid)) {
                try {
                    watches.put(pid, Fd.open(Path.of(pid == 0 ? "/proc/self/mountinfo" : "/proc/" + pid + "/mountinfo"),
                            Fd.O_RDONLY | Fd.O_CLOEXEC));
                } catch (LinuxException e) {
                    // The member exited: the next directory listing names another one.
                }
            }
        }
    }

    private void run() {
        long lastScan = System.nanoTime();
        while (!stopping) {
            boolean changed;
            List<Fd> fds;
            synchronized (this) {
                fds = List.copyOf(watches.values());
            }
            try (Poll poll = new Poll(Math.max(1, fds.size()))) {
                for (int i = 0; i < fds.size(); i++) {
                    poll.set(i, fds.get(i).value(), Poll.POLLPRI | Poll.POLLERR);
                }
                int n = fds.isEmpty() ? 0 : poll.await(POLL_MILLIS);
                if (fds.isEmpty()) {
                    Thread.sleep(POLL_MILLIS);
                }
                changed = n > 0;
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                changed = true;
            }
            if (stopping) {
                return;
            }
            boolean members = !memberPids().equals(watchedPids());
            if (changed || members || System.nanoTime() - lastScan > RESCAN_NANOS) {
                try {
                    scan();
                } catch (RuntimeException e) {
                    Log.error("mount scan failed: " + e);
                }
                lastScan = System.nanoTime();
            }
        }
    }

    private Set<Integer> memberPids() {
        Set<Integer> s = new HashSet<>();
        s.add(0);
        directory.members().forEach(m -> s.add(m.pid()));
        return s;
    }

    private synchronized Set<Integer> watchedPids() {
        return new HashSet<>(watches.keySet());
    }

    @Override
    public void close() {
        stopping = true;
        try {
            thread.join(java.time.Duration.ofSeconds(2));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (this) {
            watches.values().forEach(Fd::close);
            watches.clear();
        }
    }
}
