package dev.imans.cli;

import dev.imans.crypto.FileDigester;
import dev.imans.crypto.HashAlgo;
import dev.imans.crypto.Hex;
import dev.imans.linux.Stat;
import dev.imans.linux.Xattr;
import dev.imans.xattr.ImaXattr;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The digest of every regular file under a directory, named as the container (or host) will see
 * it: {@code prefix} plus the path below the directory, spaces made {@code _} as IMA writes names
 * (and as Keylime's {@code create_runtime_policy} does). Pseudo filesystems are skipped.
 * Symbolic links are not followed, as
 * Keylime's tool skips them: a link is measured as the file it leads to, under that file's name.
 */
final class TreeDigests {
    /** One file: its name in the list, the algorithm chosen and the digest's hex. */
    record FileDigest(String name, HashAlgo algo, String hex, Path file) {}

    /** A file that could not be read or hashed; the message names it. */
    static final class Failure extends Exception {
        Failure(String message) {
            super(message);
        }
    }

    /**
     * Filesystems whose files are not a container's content and may block or never end when read
     * ({@code /proc/kmsg}, sysfs attributes): a tree mounted over a live root skips them, as
     * Keylime's tool skips {@code /proc}, {@code /sys} and {@code /dev}.
     */
    static final Set<Long> PSEUDO_FILESYSTEMS = Set.of(
            0x9fa0L,       // PROC_SUPER_MAGIC (include/uapi/linux/magic.h)
            0x62656572L,   // SYSFS_MAGIC
            0x64626720L,   // DEBUGFS_MAGIC
            0x74726163L,   // TRACEFS_MAGIC
            0x1cd1L,       // DEVPTS_SUPER_MAGIC
            0x73636673L,   // SECURITYFS_MAGIC
            0xf97cff8cL,   // SELINUX_MAGIC
            0x43415d53L,   // SMACK_MAGIC
            0x27e0ebL,     // CGROUP_SUPER_MAGIC
            0x63677270L,   // CGROUP2_SUPER_MAGIC
            0x6e736673L,   // NSFS_MAGIC
            0xcafe4a11L,   // BPF_FS_MAGIC
            0x6165676cL,   // PSTOREFS_MAGIC
            0x62656570L,   // CONFIGFS_MAGIC (fs/configfs/mount.c)
            0x65735543L,   // FUSE_CTL_SUPER_MAGIC (fs/fuse/control.c)
            0x19800202L,   // MQUEUE_MAGIC (ipc/mqueue.c)
            0xde5e81e4L,   // EFIVARFS_MAGIC
            0x42494e4dL);  // BINFMTFS_MAGIC

    private TreeDigests() {}

    /**
     * @param algo the algorithm to hash every file with; when empty, the algorithm of the file's
     *             {@code security.ima} as the kernel picks it ({@code ima_get_hash_algo}), sha256 for
     *             unlabelled files
     */
    static List<FileDigest> walk(Path dir, String prefix, Optional<HashAlgo> algo) throws Failure {
        List<FileDigest> out = new ArrayList<>();
        FileDigester digester = new FileDigester();
        Path base = dir.toAbsolutePath().normalize();
        try {
            Files.walkFileTree(base, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) throws IOException {
                    // statfs, not Files.getFileStore: the latter looks the path up in this process's
                    // mount table, which does not hold a container's mounts reached through /proc/PID/root.
                    return PSEUDO_FILESYSTEMS.contains(Stat.statfs(d).type())
                            ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    if (!attrs.isRegularFile()) {
                        return FileVisitResult.CONTINUE;
                    }
                    HashAlgo a = algo.orElseGet(() -> labelAlgo(file));
                    if (!a.isSupported() || a.digestSize() < 20) {
                        throw new IOException(file + ": security.ima names " + a + ", which "
                                + (a.isSupported() ? "Keylime's schema cannot hold (digests of 40 to 128 hex digits)"
                                : "this JDK cannot compute") + "; choose one with --algo");
                    }
                    byte[] d;
                    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
                        d = digester.digest(a, ch);
                    }
                    out.add(new FileDigest(name(prefix, base.relativize(file)), a, Hex.of(d), file));
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                    throw e;
                }
            });
        } catch (IOException e) {
            throw new Failure(e.getMessage() == null ? e.toString() : e.getMessage());
        }
        return out;
    }

    private static final java.util.Set<HashAlgo> KERNEL_ALGOS =
            dev.imans.policy.KernelProfile.defaults().hashAlgoNames();

    private static HashAlgo labelAlgo(Path file) {
        try {
            Optional<byte[]> raw = Xattr.get(file, Xattr.SECURITY_IMA);
            // As the kernel collects a measured file's digest (CollectedDigest): the label's algorithm where
            // the kernel has it (6.1 ends at streebog512, so a sha3 label falls back), else ima_hash.
            return raw.map(r -> ImaXattr.kernelHashAlgo(r, HashAlgo.SHA256, KERNEL_ALGOS)).orElse(HashAlgo.SHA256);
        } catch (IOException e) {
            return HashAlgo.SHA256;
        }
    }

    /** {@code prefix/relative}, one slash between, spaces as {@code _}. */
    static String name(String prefix, Path relative) {
        String rel = relative.toString();
        String p = prefix.endsWith("/") ? prefix.substring(0, prefix.length() - 1) : prefix;
        return (rel.isEmpty() ? (p.isEmpty() ? "/" : p) : p + "/" + rel).replace(' ', '_');
    }
}
