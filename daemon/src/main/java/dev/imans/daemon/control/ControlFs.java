package dev.imans.daemon.control;

import dev.imans.daemon.Log;
import dev.imans.daemon.ns.Caller;
import dev.imans.daemon.ns.NamespaceService;
import dev.imans.daemon.ns.Proc;
import dev.imans.linux.Errno;
import dev.imans.ns.NamespaceId;
import dev.imans.ns.PolicySession;
import dev.imans.ns.PolicyTarget;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import org.cryptomator.jfuse.api.DirFiller;
import org.cryptomator.jfuse.api.FileInfo;
import org.cryptomator.jfuse.api.FuseOperations;
import org.cryptomator.jfuse.api.Stat;
import org.cryptomator.jfuse.api.Statvfs;
import org.cryptomator.jfuse.api.TimeSpec;

/**
 * The control filesystem's operations: securityfs's {@code ima/} files served from the namespace
 * registry.
 *
 * <p>Charter: runs on the single FUSE loop thread; owns the table of open handles; asks
 * {@link NamespaceService} for every state change and never changes state itself. Errors are
 * negative Linux errno values, as FUSE wants them. The kernel checks mode bits
 * ({@code default_permissions}); the capability checks that securityfs's open handlers make
 * ({@code capable(CAP_SYS_ADMIN)}) are made here.
 */
public final class ControlFs implements FuseOperations {
    private static final int O_ACCMODE = 3;
    private static final int O_RDONLY = 0;
    private static final int O_WRONLY = 1;

    private final NamespaceService service;
    private final MeasurementSource measurements;
    private final Privilege privilege;
    private final Proc proc;
    private final Supplier<Caller> callers;
    private final Supplier<byte[]> metrics;
    private final org.cryptomator.jfuse.api.Errno fuseErrno;
    private final Instant mounted = Instant.now();
    private final Map<Long, OpenFile> handles = new HashMap<>();
    /** The content each file's size was last reported from; the next read-open serves exactly it. */
    private final Map<String, byte[]> sized = new HashMap<>();
    private String lastPolicyText;
    private byte[] lastPolicyBytes;
    private long nextHandle = 1;
    private boolean namespacesBusy;

    ControlFs(NamespaceService service, MeasurementSource measurements, Proc proc,
              Supplier<Caller> callers, org.cryptomator.jfuse.api.Errno fuseErrno, Supplier<byte[]> metrics)
            throws IOException {
        this.metrics = metrics;
        this.service = service;
        this.measurements = measurements;
        this.proc = proc;
        this.privilege = new Privilege(proc);
        this.callers = callers;
        this.fuseErrno = fuseErrno;
    }

    @Override
    public org.cryptomator.jfuse.api.Errno errno() {
        return fuseErrno;
    }

    @Override
    public Set<Operation> supportedOperations() {
        return EnumSet.of(Operation.GET_ATTR, Operation.READ_DIR, Operation.OPEN_DIR, Operation.RELEASE_DIR,
                Operation.OPEN, Operation.READ, Operation.WRITE, Operation.FLUSH, Operation.RELEASE,
                Operation.TRUNCATE, Operation.UTIMENS, Operation.CREATE, Operation.MKDIR, Operation.UNLINK,
                Operation.RMDIR, Operation.RENAME, Operation.CHMOD, Operation.CHOWN, Operation.STATFS,
                Operation.FSYNC);
    }

    // ---- lookup and listing ----

    /** The path's node if it exists now (a namespace directory exists while it is registered). */
    private Optional<ControlPath> existing(String path) {
        Optional<ControlPath> p = ControlPath.parse(path);
        if (p.isEmpty()) {
            return p;
        }
        Optional<NamespaceId> ns = switch (p.get()) {
            case ControlPath.Dir d -> d.ns();
            case ControlPath.File f -> f.ns();
        };
        if (ns.isPresent() && !service.isRegistered(ns.get())) {
            return Optional.empty();
        }
        return p;
    }

    @Override
    public int getattr(String path, Stat stat, FileInfo fi) {
        Optional<ControlPath> p = existing(path);
        if (p.isEmpty()) {
            return -Errno.ENOENT;
        }
        switch (p.get()) {
            case ControlPath.Dir d -> {
                stat.setMode(Stat.S_IFDIR | 0755);
                stat.setNLink((short) 2);
            }
            case ControlPath.File f -> {
                stat.setMode(Stat.S_IFREG | f.file().mode());
                stat.setNLink((short) 1);
                byte[] content = readable(f);
                if (content != null) {
                    stat.setSize(content.length);
                    sized.put(path, content);
                } else {
                    stat.setSize(0);
                }
            }
        }
        stat.setUid(0);
        stat.setGid(0);
        stat.aTime().set(mounted);
        stat.mTime().set(mounted);
        stat.cTime().set(mounted);
        return 0;
    }

    @Override
    public int opendir(String path, FileInfo fi) {
        return existing(path).filter(p -> p instanceof ControlPath.Dir).isPresent() ? 0 : -Errno.ENOENT;
    }

    @Override
    public int readdir(String path, DirFiller filler, long offset, FileInfo fi, int flags) {
        Optional<ControlPath> p = existing(path);
        if (p.isEmpty() || !(p.get() instanceof ControlPath.Dir dir)) {
            return -Errno.ENOTDIR;
        }
        try {
            filler.fill(".");
            filler.fill("..");
            for (ControlFile f : ControlFile.values()) {
                boolean here = dir.imans() ? f.scope() == ControlFile.Scope.IMANS
                        : dir.ns().isPresent() ? f.scope() == ControlFile.Scope.BOTH
                                || f.scope() == ControlFile.Scope.NAMESPACE
                        : f.scope() == ControlFile.Scope.TOP || f.scope() == ControlFile.Scope.BOTH;
                if (here) {
                    filler.fill(f.fileName());
                }
            }
            if (dir.equals(ControlPath.ROOT)) {
                filler.fill(ControlFile.IMANS_DIR);
                for (NamespaceId id : service.ids()) {
                    filler.fill(id.toString());
                }
            }
        } catch (IOException e) {
            return -Errno.EIO;
        }
        return 0;
    }

    @Override
    public int releasedir(String path, FileInfo fi) {
        return 0;
    }

    @Override
    public int statfs(String path, Statvfs statvfs) {
        statvfs.setBsize(4096);
        statvfs.setFrsize(4096);
        statvfs.setBlocks(0);
        statvfs.setBfree(0);
        statvfs.setBavail(0);
        statvfs.setNameMax(255);
        return 0;
    }

    // ---- open / read / write / close ----

    @Override
    public int open(String path, FileInfo fi) {
        Optional<ControlPath> p = existing(path);
        if (p.isEmpty()) {
            return -Errno.ENOENT;
        }
        if (!(p.get() instanceof ControlPath.File f)) {
            return -Errno.EISDIR;
        }
        int access = fi.getFlags() & O_ACCMODE;
        Caller caller = callers.get();
        PolicyTarget target = f.ns().<PolicyTarget>map(PolicyTarget.Namespace::new).orElse(PolicyTarget.HOST);
        OpenFile handle;
        switch (f.file()) {
            case NAMESPACES -> {
                // ima_open_namespaces: not write-only -> EACCES, no capability -> EPERM, busy -> EBUSY.
                if (access != O_WRONLY) {
                    return -Errno.EACCES;
                }
                if (!privilege.isAdmin(caller)) {
                    return denied(caller, path);
                }
                if (namespacesBusy) {
                    return -Errno.EBUSY;
                }
                namespacesBusy = true;
                handle = new OpenFile.NamespacesWriter(caller);
            }
            case POLICY, KEYS -> {
                // ima_open_policy: reading needs O_RDONLY and CAP_SYS_ADMIN; one policy writer at a time.
                // A namespace's keys file follows the same rules.
                if (access != O_RDONLY && access != O_WRONLY) {
                    return -Errno.EACCES;
                }
                if (!privilege.isAdmin(caller)) {
                    return denied(caller, path);
                }
                if (access == O_RDONLY) {
                    byte[] content = snapshot(path, f);
                    if (content == null) {
                        return -Errno.ENOENT;
                    }
                    handle = new OpenFile.Snapshot(content);
                } else if (f.file() == ControlFile.KEYS) {
                    handle = new OpenFile.KeysWriter(f.ns().orElseThrow(), new KeyUpload(), caller.withTask(proc));
                } else {
                    Optional<PolicySession> session = service.openSession(target);
                    if (session.isEmpty()) {
                        return service.exists(target) ? -Errno.EBUSY : -Errno.ENOENT;
                    }
                    handle = new OpenFile.PolicyWriter(target, session.get(), caller.withTask(proc));
                }
            }
            default -> {
                if (access != O_RDONLY) {
                    return -Errno.EACCES;
                }
                handle = new OpenFile.Snapshot(snapshot(path, f));
            }
        }
        long fh = nextHandle++;
        handles.put(fh, handle);
        fi.setFh(fh);
        return 0;
    }

    /**
     * The content a read-open serves: the one whose length {@code getattr} reported last, if any.
     * The kernel reads through its page cache up to the size it was told (libfuse 3.14 has no
     * {@code direct_io} option and jfuse cannot set it per open), and drops that cache on every
     * open; serving the very content the size came from keeps the two consistent.
     */
    private byte[] snapshot(String path, ControlPath.File f) {
        byte[] content = sized.remove(path);
        return content != null ? content : readable(f);
    }

    /** A readable file's content now; null for a write-only file or a policy that is gone. */
    private byte[] readable(ControlPath.File f) {
        PolicyTarget target = f.ns().<PolicyTarget>map(PolicyTarget.Namespace::new).orElse(PolicyTarget.HOST);
        return switch (f.file()) {
            case NAMESPACES -> null;
            case POLICY -> service.policyText(target).map(this::policyBytes).orElse(null);
            case KEYS -> {
                String text = service.keysText(f.ns().orElseThrow());
                yield text == null ? null : text.getBytes(StandardCharsets.UTF_8);
            }
            default -> content(f.file(), target);
        };
    }

    /**
     * The bytes of a policy's text; the kernel asks for the size before every read of a large
     * policy, so the bytes of the text last asked for are kept (the text is the same object until
     * the policy changes).
     */
    private byte[] policyBytes(String text) {
        if (text != lastPolicyText) {
            lastPolicyBytes = text.getBytes(StandardCharsets.UTF_8);
            lastPolicyText = text;
        }
        return lastPolicyBytes;
    }

    private byte[] content(ControlFile file, PolicyTarget target) {
        return switch (file) {
            case ASCII_RUNTIME_MEASUREMENTS -> measurements.ascii(target);
            case BINARY_RUNTIME_MEASUREMENTS -> measurements.binary(target);
            case RUNTIME_MEASUREMENTS_COUNT -> ascii(measurements.count(target) + "\n");
            case VIOLATIONS -> ascii(measurements.violations(target) + "\n");
            case STATUS -> ascii(status());
            case LAST_ERROR -> ascii(service.lastError());
            case HEALTH -> ascii(service.health().render());
            case WARNINGS -> service.warnings().getBytes(StandardCharsets.UTF_8);
            case METRICS -> metrics.get();
            case TPM_ANCHOR_LOG -> measurements.anchorLog();
            case NAMESPACES, POLICY, KEYS -> throw new IllegalArgumentException(file + " has no snapshot content");
        };
    }

    /** {@code .imans/namespaces}: a header, then one line per registered namespace. */
    private String status() {
        StringBuilder b = new StringBuilder("nsid mode rules processes\n");
        b.append("host ").append(service.hostMode()).append(' ')
                .append(service.committedPolicy(PolicyTarget.HOST).map(p -> p.rules().size()).orElse(0))
                .append(" -\n");
        for (NamespaceService.Listed l : service.list()) {
            b.append(l.status().id()).append(' ').append(l.status().mode()).append(' ')
                    .append(l.status().rules()).append(' ').append(l.processes()).append('\n');
        }
        return b.toString();
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private int denied(Caller caller, String path) {
        Log.warn("pid " + caller.pid() + " (uid " + caller.uid() + ") lacks CAP_SYS_ADMIN in the initial user"
                + " namespace; open of " + path + " refused");
        return -Errno.EPERM;
    }

    @Override
    public int read(String path, ByteBuffer buf, long size, long offset, FileInfo fi) {
        if (!(handles.get(fi.getFh()) instanceof OpenFile.Snapshot s)) {
            return -Errno.EBADF;
        }
        byte[] data = s.content();
        if (offset >= data.length) {
            return 0;
        }
        int n = (int) Math.min(Math.min(size, buf.remaining()), data.length - offset);
        buf.put(data, (int) offset, n);
        return n;
    }

    @Override
    public int write(String path, ByteBuffer buf, long size, long offset, FileInfo fi) {
        OpenFile h = handles.get(fi.getFh());
        byte[] data = new byte[(int) Math.min(size, buf.remaining())];
        buf.get(data);
        return switch (h) {
            // Every byte is taken: an unterminated last line waits for the next write or the flush.
            case OpenFile.PolicyWriter w ->
                    service.write(w.target(), w.session(), data, w.writer()).isPresent() ? -Errno.EINVAL : data.length;
            case OpenFile.NamespacesWriter n -> register(data, offset);
            case OpenFile.KeysWriter k -> addKeys(k, data);
            case null, default -> -Errno.EBADF;
        };
    }

    /**
     * Adds every certificate this write completes, so a whole certificate is in force when its write(2)
     * returns (as {@code keyctl padd} adds one in one call); bytes that cannot begin a certificate fail
     * the write at once, and a certificate cut by a write boundary waits for the next write or the close.
     */
    private int addKeys(OpenFile.KeysWriter k, byte[] data) {
        List<byte[]> complete;
        try {
            complete = k.upload().add(data);
        } catch (IllegalArgumentException e) {
            return errno(service.keysRejected(k.ns(), e.getMessage(), k.writer()));
        }
        if (complete.isEmpty()) {
            return data.length;
        }
        int rc = errno(service.addKeys(k.ns(), complete, k.writer()));
        if (rc != 0) {
            k.upload().reset();
            return rc;
        }
        return data.length;
    }

    /** {@code ima_write_namespaces}: one id per write, from offset 0 ("no partial writes"). */
    private int register(byte[] data, long offset) {
        if (offset != 0) {
            return -Errno.EINVAL;
        }
        NamespaceId id;
        try {
            id = NamespaceId.parse(new String(data, StandardCharsets.US_ASCII));
        } catch (IllegalArgumentException e) {
            Log.warn(e.getMessage());
            return -Errno.EINVAL;
        }
        // register() returns once the namespace is enforced (its filesystems marked): so does this write.
        try {
            return switch (service.register(id)) {
                case REGISTERED, ALREADY_REGISTERED -> data.length;
                case NO_PROCESS -> -Errno.ENOENT;
                case HOST_NAMESPACE -> -Errno.EINVAL;
            };
        } catch (IOException e) {
            Log.error("registering namespace " + id + ": " + e.getMessage());
            return -Errno.EIO;
        }
    }

    /**
     * Every close(2) of a descriptor of the file (dup'd and inherited ones too) sends a FLUSH and
     * waits for its answer; RELEASE comes only after the last close has returned. So a policy write
     * is committed here, and in force when the writer's close returns.
     */
    @Override
    public int flush(String path, FileInfo fi) {
        return switch (handles.get(fi.getFh())) {
            case OpenFile.PolicyWriter w -> errno(service.flush(w.target(), w.session(), w.writer()));
            case OpenFile.KeysWriter k -> {
                // What no write completed is a cut certificate: this close fails with the reason. The bytes
                // stay for a later write: the close may be that of a copy the writer's child inherited.
                byte[] rest = k.upload().rest();
                if (rest.length == 0) {
                    yield 0;
                }
                NamespaceService.Commit c = service.addKeys(k.ns(), List.of(rest), k.writer());
                if (c != NamespaceService.Commit.REJECTED) {
                    k.upload().reset();
                }
                yield errno(c);
            }
            case null, default -> 0;
        };
    }

    private static int errno(NamespaceService.Commit commit) {
        return switch (commit) {
            case DONE -> 0;
            case REJECTED -> -Errno.EINVAL;
            case NOT_APPLIED -> -Errno.EIO;
        };
    }

    @Override
    public int fsync(String path, int datasync, FileInfo fi) {
        return 0;
    }

    @Override
    public int release(String path, FileInfo fi) {
        OpenFile h = handles.remove(fi.getFh());
        switch (h) {
            // Normally all committed at the flush of the last close; nobody hears this result.
            case OpenFile.PolicyWriter w -> service.close(w.target(), w.session(), w.writer());
            case OpenFile.NamespacesWriter n -> namespacesBusy = false;
            case OpenFile.KeysWriter k -> {
                if (k.upload().rest().length > 0) {
                    Log.warn("namespace " + k.ns() + " keys: " + k.upload().rest().length + " byte(s) of an"
                            + " incomplete certificate discarded at the last close");
                }
            }
            case null, default -> { }
        }
        return 0;
    }

    /** Releases every handle still open (unmount): open sessions are discarded, never committed. */
    void releaseAll() {
        for (OpenFile h : List.copyOf(handles.values())) {
            if (h instanceof OpenFile.PolicyWriter w && !w.session().failed()) {
                Log.warn(w.target() + " policy write still open at shutdown; discarded");
            }
        }
        handles.clear();
    }

    // ---- metadata changes ----

    @Override
    public int truncate(String path, long size, FileInfo fi) {
        // O_TRUNC on a policy file ("> policy") arrives here; the policy is replaced by nothing:
        // rules only ever append, so truncation is accepted and changes nothing.
        Optional<ControlPath> p = existing(path);
        if (p.isEmpty()) {
            return -Errno.ENOENT;
        }
        if (!(p.get() instanceof ControlPath.File f) || !f.file().writable()) {
            return -Errno.EACCES;
        }
        if (fi == null && !privilege.isAdmin(callers.get())) {
            return -Errno.EPERM;
        }
        return 0;
    }

    @Override
    public int utimens(String path, TimeSpec atime, TimeSpec mtime, FileInfo fi) {
        return existing(path).isPresent() ? 0 : -Errno.ENOENT;
    }

    @Override
    public int create(String path, int mode, FileInfo fi) {
        return existing(path).isPresent() ? -Errno.EEXIST : -Errno.EACCES;
    }

    @Override
    public int mkdir(String path, int mode) {
        return -Errno.EPERM;
    }

    @Override
    public int unlink(String path) {
        return -Errno.EPERM;
    }

    @Override
    public int rmdir(String path) {
        return -Errno.EPERM;
    }

    @Override
    public int rename(String oldpath, String newpath, int flags) {
        return -Errno.EPERM;
    }

    @Override
    public int chmod(String path, int mode, FileInfo fi) {
        return -Errno.EPERM;
    }

    @Override
    public int chown(String path, int uid, int gid, FileInfo fi) {
        return -Errno.EPERM;
    }
}
