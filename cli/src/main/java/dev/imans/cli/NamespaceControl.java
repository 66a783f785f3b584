package dev.imans.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Mount namespaces and the daemon's {@code namespaces} and policy files, with the daemon's errors
 * turned into messages that say what they mean; shared by {@code ns add}, {@code policy load} and
 * {@code oci-hook}.
 */
final class NamespaceControl {
    private NamespaceControl() {}

    /** The mount-namespace id (nsfs inode number) of a process, as {@code readlink /proc/PID/ns/mnt} shows it. */
    static String mountNamespace(long pid) throws ControlException {
        Path link = Path.of("/proc", Long.toString(pid), "ns", "mnt");
        try {
            String target = Files.readSymbolicLink(link).toString();
            if (!target.startsWith("mnt:[") || !target.endsWith("]")) {
                throw new ControlException(link + " is not a mount namespace link: " + target);
            }
            return target.substring(5, target.length() - 1);
        } catch (IOException e) {
            throw new ControlException("cannot read " + link + " (no such process, or no permission)");
        }
    }

    /**
     * This process's own mount-namespace id, through {@code /proc/self}: a pid from
     * {@link ProcessHandle} is this process's pid in its own pid namespace, which need not be the
     * one {@code /proc} belongs to (a hook run inside a container's new pid namespace).
     */
    static String ownMountNamespace() throws ControlException {
        Path link = Path.of("/proc/self/ns/mnt");
        try {
            String target = Files.readSymbolicLink(link).toString();
            return target.substring(target.indexOf('[') + 1, target.length() - 1);
        } catch (IOException e) {
            throw new ControlException("cannot read " + link + ": " + e.getMessage());
        }
    }

    /** Writes {@code nsid} to {@code DIR/namespaces}; registering an already registered namespace succeeds. */
    static void register(Path dir, String nsid) throws ControlException {
        try {
            ControlFiles.write(dir.resolve("namespaces"), (nsid + "\n").getBytes(StandardCharsets.US_ASCII));
        } catch (ControlFiles.ControlIoException e) {
            throw new ControlException(switch (e.failure) {
                case ENOENT -> "namespace " + nsid + " has no live process";
                case EINVAL -> "namespace " + nsid + " cannot be registered (it is the host's own mount "
                        + "namespace, whose policy is " + dir.resolve("policy") + ")";
                case EPERM -> "registering needs CAP_SYS_ADMIN in the initial user namespace";
                case EBUSY -> dir.resolve("namespaces") + " is open by another writer; try again";
                case EIO -> "namespace " + nsid + " was registered, but the daemon could not put that in force ("
                        + lastError(dir) + ")";
                default -> "cannot write " + dir.resolve("namespaces") + ": " + e.getMessage();
            });
        }
    }

    /**
     * Appends {@code rules} to the host policy ({@code nsid} null) or a namespace's, in one write.
     *
     * @param source how the rules are named in messages (a file name)
     */
    static void appendPolicy(Path dir, Long nsid, String source, byte[] rules) throws ControlException {
        Path policy = policyFile(dir, nsid);
        try {
            // The daemon commits at the close (FUSE FLUSH), so the rules are in force when this returns.
            ControlFiles.write(policy, rules);
        } catch (ControlFiles.ControlIoException e) {
            throw new ControlException(switch (e.failure) {
                case EINVAL -> "the daemon rejected " + source + " (" + lastError(dir) + "); " + policyName(nsid)
                        + " is unchanged";
                case EBUSY -> policy + " is open by another writer; try again";
                case EIO -> "the rules of " + source + " were committed to " + policyName(nsid)
                        + ", but the daemon could not put them in force (" + lastError(dir) + ")";
                case EPERM -> "loading a policy needs CAP_SYS_ADMIN in the initial user namespace";
                case ENOENT -> nsid == null ? "cannot open " + policy
                        : "namespace " + nsid + " is not registered (imans ns add)";
                default -> "cannot write " + policy + ": " + e.getMessage();
            });
        }
    }

    /**
     * Adds the certificates of {@code certs} to namespace {@code nsid}'s keys, in one write: in force when
     * this returns.
     *
     * @param source how the certificates are named in messages (a file name)
     */
    static void addKeys(Path dir, long nsid, String source, byte[] certs) throws ControlException {
        Path keys = dir.resolve(Long.toString(nsid)).resolve("keys");
        try {
            ControlFiles.write(keys, certs);
        } catch (ControlFiles.ControlIoException e) {
            throw new ControlException(switch (e.failure) {
                case EINVAL -> "the daemon rejected the certificates of " + source + " (" + lastError(dir)
                        + "); the keys of namespace " + nsid + " are unchanged";
                case EIO -> "the keys of " + source + " were added to namespace " + nsid
                        + ", but the daemon could not put them in force (" + lastError(dir) + ")";
                case EPERM -> "adding keys needs CAP_SYS_ADMIN in the initial user namespace";
                case ENOENT -> "namespace " + nsid + " is not registered, or the daemon has no keys files";
                default -> "cannot write " + keys + ": " + e.getMessage();
            });
        }
    }

    /** {@code DIR/policy} or {@code DIR/NSID/policy}. */
    static Path policyFile(Path dir, Long nsid) {
        return nsid == null ? dir.resolve("policy") : dir.resolve(Long.toString(nsid)).resolve("policy");
    }

    /** "the host policy" or "the policy of namespace NSID". */
    static String policyName(Long nsid) {
        return nsid == null ? "the host policy" : "the policy of namespace " + nsid;
    }

    /** The daemon's reason from {@code .imans/last_error}, without its time stamp and target. */
    static String lastError(Path dir) {
        try {
            String last = ControlFiles.read(dir.resolve(".imans").resolve("last_error")).strip();
            int colon = last.indexOf(": ");
            return last.isEmpty() ? "see the daemon's log" : colon > 0 ? last.substring(colon + 2) : last;
        } catch (ControlFiles.ControlIoException e) {
            return "see the daemon's log";
        }
    }
}
