package dev.imans.daemon.enforce;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/** The open mask read from /proc/PID/syscall text, on x86_64 (this project's CI machine). */
class AccessMaskTest {
    @Test
    void openatFlagsBecomeTheKernelsMayMask() {
        // openat(AT_FDCWD, path, O_RDONLY)
        assertThat(AccessMask.fromSyscall("257 0xffffff9c 0x7ffd1234 0x0 0x0 0x0 0x0 0x7ffd0000 0x7f0000000000\n"))
                .hasValue(4);
        // O_WRONLY|O_CREAT|O_TRUNC, as a shell's "> file"
        assertThat(AccessMask.fromSyscall("257 0xffffff9c 0x55d0 0x241 0x1b6 0x0 0x0 0x7ffd 0x7f00")).hasValue(2);
        // O_WRONLY|O_CREAT|O_APPEND, as ">> file"
        assertThat(AccessMask.fromSyscall("257 0xffffff9c 0x55d0 0x441 0x1b6 0x0 0x0 0x7ffd 0x7f00")).hasValue(2 | 8);
        // O_RDWR
        assertThat(AccessMask.fromSyscall("2 0x55d0 0x2 0x0 0x0 0x0 0x0 0x7ffd 0x7f00")).hasValue(6);
        assertThat(AccessMask.fromSyscall("59 0x55d0 0x55e0 0x55f0 0x0 0x0 0x0 0x7ffd 0x7f00")).hasValue(1);
    }

    @Test
    void unknownCallsAndShapesAreUnknown() {
        assertThat(AccessMask.fromSyscall("running")).isEmpty();
        assertThat(AccessMask.fromSyscall("-1 0x7ffd 0x7f00")).isEmpty();
        // openat2 keeps its flags in the opener's memory
        assertThat(AccessMask.fromSyscall("437 0xffffff9c 0x55d0 0x7ffd 0x18 0x0 0x0 0x7ffd 0x7f00")).isEmpty();
        assertThat(AccessMask.mayWrite(OptionalInt.empty())).isTrue();
        assertThat(AccessMask.mayWrite(OptionalInt.of(4))).isFalse();
    }

    @Test
    void creationIsSeenInTheFlags() {
        assertThat(AccessMask.creates("257 0xffffff9c 0x55d0 0x241 0x1b6 0x0 0x0 0x7ffd 0x7f00")).isTrue();
        assertThat(AccessMask.creates("257 0xffffff9c 0x55d0 0x0 0x0 0x0 0x0 0x7ffd 0x7f00")).isFalse();
        assertThat(AccessMask.creates("85 0x55d0 0x1b6 0x0 0x0 0x0 0x0 0x7ffd 0x7f00")).isTrue();
    }

    @Test
    void tmpfileOpensAreSeenAndSignedFilesCountOnlyKnownWrites() {
        // openat(dirfd, ".", O_TMPFILE|O_RDWR, 0600): O_TMPFILE is __O_TMPFILE|O_DIRECTORY = 020200000
        OpenCall tmp = OpenCall.parse("257 0x3 0x7f12 0x410002 0x180 0x0 0x0 0x7ffd 0x7f00");
        assertThat(tmp.tmpfile()).isTrue();
        assertThat(tmp.creates()).isFalse();
        assertThat(tmp.mask()).hasValue(6);
        assertThat(AccessMask.tmpfile("2 0x55d0 0x410001 0x180 0x0 0x0 0x0 0x7ffd 0x7f00")).isTrue();
        // O_DIRECTORY alone is not O_TMPFILE
        assertThat(AccessMask.tmpfile("257 0xffffff9c 0x55d0 0x10000 0x0 0x0 0x0 0x7ffd 0x7f00")).isFalse();
        assertThat(OpenCall.parse("running").known()).isFalse();
        // MAY_WRITE, not MAY_APPEND alone (O_RDONLY|O_APPEND), is what a signed file refuses
        assertThat(AccessMask.knownToWrite(AccessMask.fromSyscall("257 0xffffff9c 0x55d0 0x441 0x1b6 0x0 0x0 0x7ffd 0x7f00")))
                .isTrue();
        assertThat(AccessMask.knownToWrite(AccessMask.fromSyscall("257 0xffffff9c 0x55d0 0x400 0x0 0x0 0x0 0x7ffd 0x7f00")))
                .isFalse();
        assertThat(AccessMask.knownToWrite(OptionalInt.empty())).isFalse();
    }

    @Test
    void overlayLayersAreReadFromTheSuperOptions() {
        assertThat(MountTracker.layers("rw,lowerdir=/l1:/l\\:2,upperdir=/u,workdir=/w"))
                .containsExactly("/l1", "/l:2", "/u");
        assertThat(FilesystemTable.typeName("fuse.imans")).isEqualTo("fuse");
    }
}
