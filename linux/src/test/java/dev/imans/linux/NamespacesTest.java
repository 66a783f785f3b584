package dev.imans.linux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real mount namespaces: a child made with {@code unshare -m} (root). */
class NamespacesTest {
    @TempDir
    Path tmp;
    Process child;

    @AfterEach
    void killChild() throws Exception {
        if (child != null) {
            child.destroyForcibly();
            child.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void ownInodeIsWhatReadlinkShows() throws Exception {
        String link = Files.readSymbolicLink(Path.of("/proc/self/ns/mnt")).toString();
        assertThat(link).isEqualTo("mnt:[" + Namespaces.ownMountNamespaceInode() + "]");
        assertThat(Namespaces.mountNamespaceInode(Unistd.getpid())).isEqualTo(Namespaces.ownMountNamespaceInode());
    }

    @Test
    void childInNewMountNamespaceDiffersByInodePidfdAndId() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("private"));
        child = new ProcessBuilder("unshare", "-m", "sh", "-c",
                "mount -t tmpfs x " + dir + " && touch " + dir + "/inside && exec sleep 30").start();
        int pid = (int) child.pid();
        long own = Namespaces.ownMountNamespaceInode();
        awaitSleeping(pid);
        long theirs = Namespaces.mountNamespaceInode(pid);
        assertThat(theirs).isNotEqualTo(own);

        try (Fd pidfd = Namespaces.pidfdOpen(pid); Fd ns = Namespaces.mountNamespaceOfPidfd(pidfd.value());
                Fd ownNs = Namespaces.openMountNamespace(Unistd.getpid())) {
            assertThat(Stat.fstat(ns.value()).ino()).isEqualTo(theirs);
            try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined(); Stat.Buffer st = new Stat.Buffer()) {
                java.lang.foreign.MemorySegment err = Native.errnoSegment(arena);
                assertThat(Namespaces.mountNamespaceInodeOfPidfd(err, pidfd.value(), st)).isEqualTo(theirs);
                assertThat(Namespaces.mountNamespaceInodeOfPidfd(err, -1, st)).isEqualTo(-Errno.EBADF);
            }
            assertThat(Namespaces.namespaceType(ns.value())).isEqualTo(Namespaces.CLONE_NEWNS);
            long theirId = Namespaces.mountNamespaceId(ns.value());
            long ownId = Namespaces.mountNamespaceId(ownNs.value());
            assertThat(theirId).isPositive().isNotEqualTo(ownId);

            assertThat(Files.exists(dir.resolve("inside"))).isFalse();
            boolean seenInside = Namespaces.callInMountNamespace(ns.value(), () -> Files.exists(dir.resolve("inside")));
            assertThat(seenInside).isTrue();
            assertThat(Namespaces.ownMountNamespaceInode()).as("the caller stays where it was").isEqualTo(own);
        }
    }

    @Test
    void errorsAreNamed() {
        assertThatThrownBy(() -> Namespaces.pidfdOpen(-5))
                .satisfies(e -> assertThat(((LinuxException) e).errnoValue()).isEqualTo(Errno.EINVAL));
        assertThatThrownBy(() -> Namespaces.mountNamespaceId(-1))
                .hasMessageContaining("NS_GET_MNTNS_ID").hasMessageContaining("EBADF");
        assertThatThrownBy(() -> Namespaces.setns(-1, Namespaces.CLONE_NEWNS))
                .satisfies(e -> assertThat(((LinuxException) e).errnoValue()).isEqualTo(Errno.EBADF));
        assertThatThrownBy(() -> Namespaces.mountNamespaceInode(Integer.MAX_VALUE))
                .satisfies(e -> assertThat(((LinuxException) e).errnoValue()).isEqualTo(Errno.ENOENT));
    }

    static void awaitSleeping(int pid) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!Proc.comm(pid).equals("sleep")) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("child " + pid + " never reached sleep");
            }
            Thread.sleep(10);
        }
    }
}
