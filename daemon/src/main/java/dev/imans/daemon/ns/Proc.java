package dev.imans.daemon.ns;

import dev.imans.ns.NamespaceId;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The few {@code /proc} facts the namespace registry needs, read with plain file calls: a
 * process's mount and user namespace, its effective capabilities, and which processes live in
 * which mount namespace.
 *
 * <p>Every method tolerates processes that exit while being read: such a process simply is not
 * there.
 */
public final class Proc {
    /** CAP_SYS_ADMIN's bit number (include/uapi/linux/capability.h). */
    public static final int CAP_SYS_ADMIN = 21;

    private final Path root;

    public Proc(Path root) {
        this.root = root;
    }

    /** The real {@code /proc}. */
    public static Proc system() {
        return new Proc(Path.of("/proc"));
    }

    /** The mount namespace of {@code pid}, or empty if the process is gone or unreadable. */
    public Optional<NamespaceId> mountNamespace(long pid) {
        return link(root.resolve(Long.toString(pid)).resolve("ns/mnt")).map(NamespaceId::fromLink);
    }

    /** This boot's id ({@code sys/kernel/random/boot_id}, a random UUID drawn at boot), or empty if unreadable. */
    public Optional<String> bootId() {
        try {
            return Optional.of(Files.readString(root.resolve("sys/kernel/random/boot_id")).strip());
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** The mount namespace of the calling process. */
    public NamespaceId ownMountNamespace() throws IOException {
        return NamespaceId.fromLink(Files.readSymbolicLink(root.resolve("self/ns/mnt")).toString());
    }

    /** The target of {@code /proc/PID/ns/user}, e.g. {@code user:[4026531837]}, or empty. */
    public Optional<String> userNamespace(long pid) {
        return link(root.resolve(Long.toString(pid)).resolve("ns/user"));
    }

    /** The calling process's user namespace link target. */
    public String ownUserNamespace() throws IOException {
        return Files.readSymbolicLink(root.resolve("self/ns/user")).toString();
    }

    /** The effective capability set of {@code pid} ({@code CapEff} in its status), or empty. */
    public Optional<Long> effectiveCapabilities(long pid) {
        try {
            List<String> lines = Files.readAllLines(root.resolve(Long.toString(pid)).resolve("status"));
            for (String l : lines) {
                if (l.startsWith("CapEff:")) {
                    return Optional.of(Long.parseUnsignedLong(l.substring(7).strip(), 16));
                }
            }
            return Optional.empty();
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** The command name of {@code pid} ({@code /proc/PID/comm} without its newline), or empty. */
    public Optional<String> comm(long pid) {
        try {
            return Optional.of(Files.readString(root.resolve(Long.toString(pid)).resolve("comm")).stripTrailing());
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** A decimal number file of {@code pid} ({@code loginuid}, {@code sessionid}), or empty. */
    public Optional<Long> number(long pid, String file) {
        try {
            return Optional.of(Long.parseLong(Files.readString(root.resolve(Long.toString(pid)).resolve(file)).strip()));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /**
     * How many processes live in each mount namespace right now (one pass over {@code /proc}).
     * Threads are not counted separately: they share their process's namespaces.
     */
    public Map<NamespaceId, Integer> membersByNamespace() {
        return census().counts();
    }

    /** Process counts per mount namespace and one process of each, from one pass over {@code /proc}. */
    public record Census(Map<NamespaceId, Integer> counts, Map<NamespaceId, Long> anyMember) {}

    /** {@link #membersByNamespace()} with one member of each namespace. */
    public Census census() {
        Map<NamespaceId, Integer> counts = new HashMap<>();
        Map<NamespaceId, Long> any = new HashMap<>();
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(root)) {
            for (Path p : dir) {
                String name = p.getFileName().toString();
                if (!name.isEmpty() && name.chars().allMatch(Character::isDigit)) {
                    Optional<NamespaceId> id = link(p.resolve("ns/mnt")).map(NamespaceId::fromLink);
                    if (id.isPresent()) {
                        counts.merge(id.get(), 1, Integer::sum);
                        any.putIfAbsent(id.get(), Long.parseLong(name));
                    }
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot list " + root + ": " + e.getMessage(), e);
        }
        return new Census(counts, any);
    }

    /** Some process living in {@code id}, or empty if none does. */
    public Optional<Long> anyMember(NamespaceId id) {
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(root)) {
            for (Path p : dir) {
                String name = p.getFileName().toString();
                if (!name.isEmpty() && name.chars().allMatch(Character::isDigit)
                        && link(p.resolve("ns/mnt")).map(NamespaceId::fromLink).filter(id::equals).isPresent()) {
                    return Optional.of(Long.parseLong(name));
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot list " + root + ": " + e.getMessage(), e);
        }
        return Optional.empty();
    }

    private static Optional<String> link(Path p) {
        try {
            return Optional.of(Files.readSymbolicLink(p).toString());
        } catch (IOException | UnsupportedOperationException e) {
            return Optional.empty();
        }
    }
}
