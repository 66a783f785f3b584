package dev.imans.daemon.enforce;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * Run in a child JVM inside a namespace: unmounts {@code OLD} and mounts a new tmpfs at {@code NEW}
 * microseconds later, faster than any watcher of the mount table can look in between, so the new
 * superblock usually takes the device number the old one freed. Exits 1 if either call fails.
 */
public final class Remount {
    private Remount() {}

    public static void main(String[] args) throws Throwable {
        Linker linker = Linker.nativeLinker();
        MethodHandle umount = linker.downcallHandle(linker.defaultLookup().find("umount2").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        MethodHandle mount = linker.downcallHandle(linker.defaultLookup().find("mount").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment old = arena.allocateFrom(args[0]);
            MemorySegment target = arena.allocateFrom(args[1]);
            MemorySegment source = arena.allocateFrom("second");
            MemorySegment type = arena.allocateFrom("tmpfs");
            // Link both calls first (a first downcall costs milliseconds), on a path that does not exist.
            MemorySegment none = arena.allocateFrom("/nonexistent-imans-remount");
            int warm = (int) umount.invokeExact(none, 0);
            warm = (int) mount.invokeExact(source, none, type, 0L, MemorySegment.NULL);
            int u = (int) umount.invokeExact(old, 0);
            int m = (int) mount.invokeExact(source, target, type, 0L, MemorySegment.NULL);
            System.exit(u == 0 && m == 0 ? 0 : 1);
        }
    }
}
