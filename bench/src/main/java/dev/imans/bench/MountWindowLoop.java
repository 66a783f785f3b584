package dev.imans.bench;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The mounter of the mount-window benchmark, run in a child JVM inside a registered namespace whose
 * policy appraises tmpfs: {@code COUNT} times, mounts a fresh tmpfs with mount(2), and from the moment
 * mount(2) returns, writes an unlabelled file there and opens it for reading until the open is refused
 * (the daemon has marked the new filesystem). Prints one line per mount:
 * {@code window NANOS SLIPPED} (time from mount(2)'s return to the first refused open, and how many
 * opens got through before it), then unmounts it and pauses {@code PAUSE_MS} so each mount finds the
 * daemon idle.
 *
 * <p>Usage: {@code MountWindowLoop DIR COUNT PAUSE_MS}
 */
public final class MountWindowLoop {
    private static final long GIVE_UP_NANOS = 10_000_000_000L;

    private MountWindowLoop() {}

    public static void main(String[] args) throws Throwable {
        Path dir = Path.of(args[0]);
        int count = Integer.parseInt(args[1]);
        long pause = Long.parseLong(args[2]);
        Linker linker = Linker.nativeLinker();
        MethodHandle mount = linker.downcallHandle(linker.defaultLookup().find("mount").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS));
        MethodHandle umount = linker.downcallHandle(linker.defaultLookup().find("umount2").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        byte[] buf = new byte[64];
        for (int i = 0; i < count; i++) {
            Path target = Files.createDirectories(dir.resolve("m" + i));
            Path file = target.resolve("unlabelled");
            try (Arena arena = Arena.ofConfined()) {
                var t = arena.allocateFrom(target.toString());
                var type = arena.allocateFrom("tmpfs");
                if ((int) mount.invokeExact(arena.allocateFrom("imans-window"), t, type, 0L,
                        arena.allocateFrom("size=1m")) != 0) {
                    throw new IOException("mount failed at " + target);
                }
                long t0 = System.nanoTime();
                long slipped = 0;
                long refusedAt = 0;
                try (FileOutputStream out = new FileOutputStream(file.toFile())) {
                    out.write('x');
                } catch (IOException e) {
                    // The daemon cannot tell a multi-threaded opener's O_CREAT (README, "The open mask"),
                    // so it judges the create as a read of an unlabelled file: the mark is already there.
                    refusedAt = System.nanoTime();
                }
                while (refusedAt == 0) {
                    try (FileInputStream in = new FileInputStream(file.toFile())) {
                        in.read(buf);
                        slipped++;
                    } catch (IOException e) {
                        refusedAt = System.nanoTime();
                        break;
                    }
                    if (System.nanoTime() - t0 > GIVE_UP_NANOS) {
                        refusedAt = -1;
                        break;
                    }
                }
                System.out.println("window " + (refusedAt < 0 ? -1 : refusedAt - t0) + " " + slipped);
                // Lazily: the daemon may still hold the refused file's event descriptor for a moment.
                if ((int) umount.invokeExact(t, 2) != 0) {
                    throw new IOException("umount failed at " + target);
                }
            }
            Files.delete(target);
            Thread.sleep(pause);
        }
    }
}
