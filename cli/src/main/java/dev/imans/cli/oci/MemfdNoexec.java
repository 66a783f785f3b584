package dev.imans.cli.oci;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Sets {@code vm.memfd_noexec=2} in a container's pid namespace, so that programs copied into a memfd
 * and executed there, which imans cannot see (docs/policy.md), fail with EACCES instead. The sysctl
 * belongs to the pid namespace of the writing process, so it is written by {@code nsenter -p}'s
 * child. Refused where it would not hold or would reach too far: a container sharing the hook's pid
 * namespace (the host's setting would change), and one with a user namespace of its own (its root,
 * with CAP_SYS_ADMIN over its pid namespace, could lower it again to the host's value).
 */
public final class MemfdNoexec {
    private MemfdNoexec() {}

    /**
     * Why the setting would not hold for {@code pid}'s pid namespace or would reach too far; empty when
     * {@link #apply} may set it.
     */
    public static Optional<String> whyItCannotHold(long pid) throws HookException {
        if (link(pid, "pid").equals(link(0, "pid"))) {
            return Optional.of("the container shares the hook's pid namespace: vm.memfd_noexec is not set for it"
                    + " (that would change the host's)");
        }
        if (!link(pid, "user").equals(link(0, "user"))) {
            return Optional.of("the container has its own user namespace, whose root could set vm.memfd_noexec"
                    + " back");
        }
        return Optional.empty();
    }

    /** Sets it for {@code pid}'s pid namespace and reads it back. */
    public static void apply(long pid) throws HookException {
        String target = Long.toString(pid);
        run(List.of("nsenter", "-t", target, "-p", "--", "sh", "-c", "echo 2 > /proc/sys/vm/memfd_noexec"));
        String now = run(List.of("nsenter", "-t", target, "-p", "--", "cat", "/proc/sys/vm/memfd_noexec")).strip();
        if (!now.equals("2")) {
            throw new HookException("vm.memfd_noexec in the container's pid namespace is " + now + " after setting 2");
        }
    }

    private static String link(long pid, String ns) throws HookException {
        Path p = Path.of("/proc", pid == 0 ? "self" : Long.toString(pid), "ns", ns);
        try {
            return Files.readSymbolicLink(p).toString();
        } catch (IOException e) {
            throw new HookException("cannot read " + p + ": " + e.getMessage());
        }
    }

    private static String run(List<String> cmd) throws HookException {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getOutputStream().close();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new HookException(String.join(" ", cmd) + " did not finish");
            }
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.exitValue() != 0) {
                throw new HookException("cannot set vm.memfd_noexec for the container: " + out.strip());
            }
            return out;
        } catch (IOException e) {
            throw new HookException("cannot run nsenter: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HookException("interrupted while setting vm.memfd_noexec");
        }
    }
}
