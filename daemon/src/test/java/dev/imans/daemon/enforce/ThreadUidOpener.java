package dev.imans.daemon.enforce;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Run in a child JVM as root: reads {@code args[0]} on the main thread, then on a second thread whose
 * own credentials alone are switched to uid {@code args[1]}, then on the main thread again, printing
 * one line per read. The switch is the raw system call: glibc's {@code setresuid} would switch every
 * thread of the process, and the point is one thread whose uid differs from its thread group's.
 */
public final class ThreadUidOpener {
    private ThreadUidOpener() {}

    private static final long SYS_SETRESUID = switch (System.getProperty("os.arch")) {
        case "amd64", "x86_64" -> 117;
        case "aarch64" -> 147;
        default -> throw new IllegalStateException("no setresuid number for " + System.getProperty("os.arch"));
    };

    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[0]);
        long uid = Long.parseLong(args[1]);
        Linker linker = Linker.nativeLinker();
        MethodHandle syscall = linker.downcallHandle(linker.defaultLookup().find("syscall").orElseThrow(),
                FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
                Linker.Option.firstVariadicArg(1));
        read("main", file);
        Thread other = new Thread(() -> {
            try {
                long rc = (long) syscall.invokeExact(SYS_SETRESUID, uid, uid, uid);
                if (rc != 0) {
                    throw new IllegalStateException("setresuid: " + rc);
                }
                read("thread", file);
            } catch (Throwable t) {
                System.out.println("thread failed: " + t);
            }
        });
        other.start();
        other.join();
        read("main", file);
    }

    private static void read(String who, Path file) {
        try {
            System.out.println(who + " read " + Files.readString(file).strip());
        } catch (Exception e) {
            System.out.println(who + " denied " + e.getMessage());
        }
    }
}
