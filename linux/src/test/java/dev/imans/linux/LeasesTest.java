package dev.imans.linux;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LeasesTest {
    @TempDir
    Path dir;

    @Test
    void seesWritersIncludingASharedMappingThatOutlivesItsDescriptor() throws Exception {
        Path f = Files.writeString(dir.resolve("f"), "abcd");
        try (Arena arena = Arena.ofConfined(); Fd probe = Fd.open(f, Fd.O_RDONLY)) {
            MemorySegment err = Native.errnoSegment(arena);
            assertThat(Leases.openForWrite(err, probe.value())).isZero();
            try (FileChannel w = FileChannel.open(f, StandardOpenOption.WRITE)) {
                assertThat(Leases.openForWrite(err, probe.value())).isEqualTo(1);
            }
            assertThat(Leases.openForWrite(err, probe.value())).isZero();

            try (Arena mapArena = Arena.ofConfined()) {
                MemorySegment map;
                try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                    map = ch.map(FileChannel.MapMode.READ_WRITE, 0, 4, mapArena);
                }
                map.set(ValueLayout.JAVA_BYTE, 0, (byte) 'Z');
                assertThat(Leases.openForWrite(err, probe.value())).as("the mapping keeps a writer").isEqualTo(1);
            }
            assertThat(Leases.openForWrite(err, probe.value())).isZero();
        }
    }

    @Test
    void aBadDescriptorIsAnError() {
        try (Arena arena = Arena.ofConfined()) {
            assertThat(Leases.openForWrite(Native.errnoSegment(arena), -1)).isEqualTo(-Errno.EBADF);
        }
    }
}
