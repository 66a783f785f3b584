package dev.imans.daemon.enforce;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import dev.imans.linux.Fd;
import dev.imans.linux.Memfd;
import java.io.FileOutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Run in a child JVM: copies a program into a fresh memfd and executes it with {@code echo ran} as its
 * arguments, one of three ways ({@code fexecve}, {@code execveat(fd, "", AT_EMPTY_PATH)}, {@code execve}
 * of {@code /proc/self/fd/N}). Prints the exec's errno and exits 1 when the kernel refuses it.
 */
public final class MemfdExec {
    private static final int AT_EMPTY_PATH = 0x1000;

    private MemfdExec() {}

    public static void main(String[] args) throws Throwable {
        String way = args[0];
        Fd fd = Memfd.create("program", 0);
        try (FileOutputStream out = new FileOutputStream("/proc/self/fd/" + fd.value())) {
            out.write(Files.readAllBytes(Path.of(args[1])));
        }
        Linker linker = Linker.nativeLinker();
        Linker.Option errno = Linker.Option.captureCallState("errno");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment argv = arena.allocate(ADDRESS, 3);
            argv.setAtIndex(ADDRESS, 0, arena.allocateFrom("echo"));
            argv.setAtIndex(ADDRESS, 1, arena.allocateFrom("ran"));
            argv.setAtIndex(ADDRESS, 2, MemorySegment.NULL);
            MemorySegment envp = arena.allocate(ADDRESS, 1);
            envp.setAtIndex(ADDRESS, 0, MemorySegment.NULL);
            MemorySegment err = arena.allocate(Linker.Option.captureStateLayout());
            switch (way) {
                case "fexecve" -> {
                    int rc = (int) linker.downcallHandle(linker.defaultLookup().find("fexecve").orElseThrow(),
                            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS), errno)
                            .invokeExact(err, fd.value(), argv, envp);
                }
                case "execveat" -> {
                    MethodHandle h = linker.downcallHandle(linker.defaultLookup().find("execveat").orElseThrow(),
                            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT), errno);
                    int rc = (int) h.invokeExact(err, fd.value(), arena.allocateFrom(""), argv, envp, AT_EMPTY_PATH);
                }
                case "proc" -> {
                    int rc = (int) linker.downcallHandle(linker.defaultLookup().find("execve").orElseThrow(),
                            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS), errno)
                            .invokeExact(err, arena.allocateFrom("/proc/self/fd/" + fd.value()), argv, envp);
                }
                default -> throw new IllegalArgumentException(way);
            }
            int e = err.get(JAVA_INT, Linker.Option.captureStateLayout().byteOffset(
                    java.lang.foreign.MemoryLayout.PathElement.groupElement("errno")));
            System.out.println("exec failed: errno " + e);
            System.exit(1);
        }
    }
}
