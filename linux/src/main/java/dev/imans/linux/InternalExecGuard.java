package dev.imans.linux;

import static dev.imans.linux.BpfAsm.ADD;
import static dev.imans.linux.BpfAsm.AND;
import static dev.imans.linux.BpfAsm.JEQ;
import static dev.imans.linux.BpfAsm.JNE;
import static dev.imans.linux.BpfAsm.LSH;
import static dev.imans.linux.BpfAsm.OR;
import static dev.imans.linux.BpfAsm.R0;
import static dev.imans.linux.BpfAsm.R1;
import static dev.imans.linux.BpfAsm.R10;
import static dev.imans.linux.BpfAsm.R2;
import static dev.imans.linux.BpfAsm.R3;
import static dev.imans.linux.BpfAsm.R4;
import static dev.imans.linux.BpfAsm.R6;
import static dev.imans.linux.BpfAsm.R7;
import static dev.imans.linux.BpfAsm.R8;
import static dev.imans.linux.BpfAsm.R9;
import static dev.imans.linux.BpfAsm.RSH;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * A BPF program on the {@code sched_process_exec} tracepoint that judges what fanotify cannot see:
 * programs executed from the kernel's internal tmpfs ({@code SB_NOUSER}, the filesystem of every memfd),
 * on which Linux refuses fanotify filesystem and mount marks. (The internal hugetlbfs behind
 * {@code MFD_HUGETLB} memfds is not {@code SB_NOUSER} and takes a fanotify mark.)
 *
 * <p>Per mount namespace (by nsfs inode) a map holds what the policies in force ask of such an exec:
 * {@link #TMPFS_REFUSE refuse} it, {@link #TMPFS_AUDIT report} it, or both. A namespace that is not in
 * the map is judged as its nearest ancestor process's namespace that is (the walk up {@code real_parent}
 * that {@code NamespaceLineage} does in userspace), so a namespace made inside a registered one is
 * judged before the daemon has learned it; the host's namespace is always in the map and ends the walk,
 * and a walk that ends without an entry takes {@link #EXHAUSTED}'s.
 * Each exec the map asks to report is written to a ring buffer ({@link Event}).
 *
 * <p>The tracepoint runs after the exec's point of no return and before the new program's first
 * instruction, so a refusal is a {@code SIGKILL} of the process (delivered before it returns to user
 * mode): the program never runs, but the caller cannot get {@code EACCES} back as from the kernel's
 * {@code bprm_check_security}. A BPF LSM program on that hook would, but it needs a BPF trampoline,
 * which kernels that forbid kernel text patching refuse ({@code EPERM}); tracepoints need none. For a
 * {@code #!} script the tracepoint sees the interpreter, not the script.
 *
 * <p>The program reads the kernel structures through BTF-typed pointers at offsets taken from this
 * kernel's BTF ({@link Btf}), so no compiler and no object file are needed. It stays attached while the
 * link is open: when the daemon dies, the guard goes with it, as its fanotify group does.
 */
public final class InternalExecGuard implements AutoCloseable {
    /** Refuse (kill) and report execs from the internal tmpfs (memfds). */
    public static final int TMPFS_REFUSE = 1;
    /** Report execs from the internal tmpfs (memfds). */
    public static final int TMPFS_AUDIT = 2;

    public static final long TMPFS_MAGIC = 0x01021994L;
    /** The tracepoint's BTF typedef: {@code (struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)}. */
    public static final String TRACEPOINT = "btf_trace_sched_process_exec";

    private static final int SB_NOUSER_BIT = 31;
    private static final int SIGKILL = 9;
    /** How many processes up the parent chain a namespace not in the map is looked for. */
    static final int WALK = 32;
    /**
     * The key whose entry judges an exec whose walk found no namespace the map holds (no nsfs inode is
     * 0): the daemon makes it the strictest of all, since only a deliberately deep chain of processes in
     * unlearned namespaces gets there.
     */
    public static final long EXHAUSTED = 0;
    private static final int MAX_NAMESPACES = 16384;
    private static final int RING_SIZE = 256 * 1024;

    private static final int FUNC_MAP_LOOKUP_ELEM = 1;
    private static final int FUNC_GET_CURRENT_PID_TGID = 14;
    private static final int FUNC_GET_CURRENT_UID_GID = 15;
    private static final int FUNC_GET_CURRENT_COMM = 16;
    private static final int FUNC_SEND_SIGNAL = 109;
    private static final int FUNC_GET_CURRENT_TASK = 35;
    private static final int FUNC_PROBE_READ_KERNEL = 113;
    private static final int FUNC_PROBE_READ_KERNEL_STR = 115;
    private static final int FUNC_RINGBUF_OUTPUT = 130;
    private static final int FUNC_GET_CURRENT_TASK_BTF = 158;

    /** The record's layout on the program's stack: offsets from the frame pointer. */
    private static final int EV = -96;
    static final int EVENT_SIZE = 88;
    private static final int COMM = 40;
    private static final int NAME = 56;
    private static final int NAME_SIZE = 32;
    private static final int KEY = -4;
    private static final int OWN_NS = -8;
    /** Where the walk's reads land (below the record). */
    private static final int SLOT = -104;

    /**
     * One exec the map asked to report.
     *
     * @param tgid the process, {@code tid} the thread that called execve
     * @param openerNs the exec's own mount namespace, {@code judgedAs} the namespace whose entry judged it
     *     (itself or the nearest ancestor process's)
     * @param dev the superblock's device number (kernel encoding: major &lt;&lt; 20 | minor)
     * @param flags the flags of the entry that applied to this filesystem
     * @param refused whether the exec was refused (the process killed)
     * @param comm the process's name once the new program named it (the kernel's audit record, written
     *     before, has the old one)
     * @param name the file's name (a memfd's {@code memfd:NAME})
     */
    public record Event(int tgid, int tid, int uid, int gid, long openerNs, long judgedAs, long ino, int dev,
                        int flags, boolean refused, String comm, String name) {
        static Event parse(byte[] b) {
            ByteBuffer in = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
            int flags = in.getInt(36);
            return new Event(in.getInt(4), in.getInt(0), in.getInt(8), in.getInt(12),
                    Integer.toUnsignedLong(in.getInt(16)), Integer.toUnsignedLong(in.getInt(20)), in.getLong(24),
                    in.getInt(32), flags, (flags & TMPFS_REFUSE) != 0,
                    cString(b, COMM, 16), cString(b, NAME, NAME_SIZE));
        }

        private static String cString(byte[] b, int at, int max) {
            int end = at;
            while (end < at + max && b[end] != 0) {
                end++;
            }
            return new String(b, at, end - at, StandardCharsets.UTF_8);
        }
    }

    private final Fd namespaces;
    private final BpfRingBuffer events;
    /** One counter: reports the ring had no room for. */
    private final Fd lost;
    private final Fd prog;
    private final Fd link;

    private InternalExecGuard(Fd namespaces, BpfRingBuffer events, Fd lost, Fd prog, Fd link) {
        this.lost = lost;
        this.namespaces = namespaces;
        this.events = events;
        this.prog = prog;
        this.link = link;
    }

    /**
     * Loads and attaches the guard with {@code host}'s entry set to {@code hostFlags} (so the parent walk
     * always ends). Fails without CAP_BPF and CAP_PERFMON, or where the kernel has no BTF.
     */
    public static InternalExecGuard attach(long host, int hostFlags) throws IOException {
        return attach(host, hostFlags, RING_SIZE);
    }

    /** As {@link #attach(long, int)} with a ring buffer of {@code ringSize} bytes (tests fill a small one). */
    static InternalExecGuard attach(long host, int hostFlags, int ringSize) throws IOException {
        Btf btf = Btf.vmlinux();
        int hook = btf.typedef(TRACEPOINT).orElseThrow(
                () -> new IOException("this kernel's BTF has no " + TRACEPOINT));
        Fd map = Bpf.mapCreate(Bpf.MAP_TYPE_HASH, 4, 4, MAX_NAMESPACES, "imans_exec_ns");
        BpfRingBuffer ring = null;
        Fd lost = null;
        Fd prog = null;
        try {
            ring = BpfRingBuffer.create(ringSize, "imans_exec_ev");
            lost = Bpf.mapCreate(Bpf.MAP_TYPE_ARRAY, 4, 8, 1, "imans_exec_lost");
            Bpf.mapUpdate(map, key(host), value(hostFlags));
            prog = Bpf.progLoad(Bpf.PROG_TYPE_TRACING, Bpf.ATTACH_TRACE_RAW_TP, hook, program(btf, map, ring.map(), lost),
                    "imans_exec");
            Fd link = Bpf.attach(prog);
            return new InternalExecGuard(map, ring, lost, prog, link);
        } catch (IOException | RuntimeException e) {
            if (prog != null) {
                prog.close();
            }
            if (ring != null) {
                ring.close();
            }
            if (lost != null) {
                lost.close();
            }
            map.close();
            throw e;
        }
    }

    /** Sets what execs from internal filesystems in namespace {@code nsInode} get; 0 lets them run unreported. */
    public void set(long nsInode, int flags) throws LinuxException {
        Bpf.mapUpdate(namespaces, key(nsInode), value(flags));
    }

    /** Removes {@code nsInode}'s entry: it is then judged as its nearest ancestor process's namespace. */
    public void remove(long nsInode) throws LinuxException {
        Bpf.mapDelete(namespaces, key(nsInode));
    }

    /** Waits up to {@code timeoutMillis} for reported execs and hands each to {@code sink}. */
    public int poll(int timeoutMillis, Consumer<Event> sink) throws LinuxException {
        if (!events.await(timeoutMillis)) {
            return 0;
        }
        return events.drain(b -> sink.accept(Event.parse(b)));
    }

    /** How many reports the ring had no room for since the guard was attached (their execs were still judged). */
    public long lost() throws LinuxException {
        byte[] v = new byte[8];
        return Bpf.mapLookup(lost, new byte[4], v) ? ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN).getLong() : 0;
    }

    @Override
    public void close() {
        link.close();
        prog.close();
        events.close();
        lost.close();
        namespaces.close();
    }

    private static byte[] key(long nsInode) {
        if (nsInode < 0 || nsInode > 0xffffffffL) {
            throw new IllegalArgumentException("not an nsfs inode number: " + nsInode);
        }
        return value((int) nsInode);
    }

    private static byte[] value(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
    }

    /** {@code r3 = *(u64 *)(base + off)} through bpf_probe_read_kernel (0 when the read fails). */
    private static BpfAsm readPointer(BpfAsm a, int base, long off) {
        return a.movReg(R3, base).alu(ADD, R3, Math.toIntExact(off))
                .movReg(R1, R10).alu(ADD, R1, SLOT).mov(R2, 8).call(FUNC_PROBE_READ_KERNEL)
                .load(8, R3, R10, SLOT);
    }

    /**
     * The program (see the class comment). r6 holds the {@code linux_binprm}, r7 the superblock and then
     * the flags that apply, r8 the filesystem's refuse bit, r9 the task whose namespace is looked up (an
     * address, read with bpf_probe_read_kernel).
     */
    static byte[] program(Btf btf, Fd namespaces, Fd ring, Fd lost) throws IOException {
        long bprmFile = btf.offset("linux_binprm", "file");
        long fileInode = btf.offset("file", "f_inode");
        long fileDentry = btf.offset("file", "f_path.dentry");
        long inodeSb = btf.offset("inode", "i_sb");
        long inodeIno = btf.offset("inode", "i_ino");
        int inoSize = btf.size("inode", "i_ino");
        long sbFlags = btf.offset("super_block", "s_flags");
        int sbFlagsSize = btf.size("super_block", "s_flags");
        long sbMagic = btf.offset("super_block", "s_magic");
        int sbMagicSize = btf.size("super_block", "s_magic");
        long sbDev = btf.offset("super_block", "s_dev");
        long dentryName = btf.offset("dentry", "d_name.name");
        long taskNsproxy = btf.offset("task_struct", "nsproxy");
        long taskParent = btf.offset("task_struct", "real_parent");
        long nsproxyMnt = btf.offset("nsproxy", "mnt_ns");
        long mntInum = btf.offset("mnt_namespace", "ns.inum");
        int inumSize = btf.size("mnt_namespace", "ns.inum");
        if (inumSize != 4 || btf.size("super_block", "s_dev") != 4) {
            throw new IOException("unexpected sizes in this kernel's BTF (inum " + inumSize + ")");
        }

        BpfAsm a = new BpfAsm();
        a.load(8, R6, R1, 16)
                .load(8, R2, R6, bprmFile).jump(JEQ, R2, 0, "allow")
                .load(8, R3, R2, fileInode).jump(JEQ, R3, 0, "allow")
                .load(8, R7, R3, inodeSb).jump(JEQ, R7, 0, "allow")
                .load(sbFlagsSize, R4, R7, sbFlags).alu(RSH, R4, SB_NOUSER_BIT).alu(AND, R4, 1)
                .jump(JEQ, R4, 0, "allow")
                .load(sbMagicSize, R4, R7, sbMagic)
                .mov(R8, TMPFS_REFUSE).jump32(JEQ, R4, (int) TMPFS_MAGIC, "classified")
                .jumpAlways("allow")
                .label("classified")
                // The walk reads through bpf_probe_read_kernel, not BTF-typed loads: the verifier checks
                // each typed load against the kernel's type names, which for 100 loads took it 0.3 s.
                .call(FUNC_GET_CURRENT_TASK).movReg(R9, R0)
                .mov(R1, 0).store(4, R10, OWN_NS, R1).store(4, R10, KEY, R1).store(8, R10, SLOT, R1);
        for (int i = 0; i < WALK; i++) {
            // A task whose namespaces are already gone (an exiting parent) is passed over, not trusted.
            String next = "next" + i;
            readPointer(a, R9, taskNsproxy).jump(JEQ, R3, 0, next);
            readPointer(a, R3, nsproxyMnt).jump(JEQ, R3, 0, next);
            a.alu(ADD, R3, (int) mntInum)
                    .movReg(R1, R10).alu(ADD, R1, KEY).mov(R2, 4).call(FUNC_PROBE_READ_KERNEL);
            if (i == 0) {
                a.load(4, R1, R10, KEY).store(4, R10, OWN_NS, R1);
            }
            a.loadMap(R1, namespaces).movReg(R2, R10).alu(ADD, R2, KEY)
                    .call(FUNC_MAP_LOOKUP_ELEM).jump(JNE, R0, 0, "found")
                    .label(next);
            readPointer(a, R9, taskParent).movReg(R9, R3).jump(JEQ, R9, 0, "exhausted");
        }
        // A chain longer than the walk, all in namespaces the map does not hold, gets the entry for them.
        a.label("exhausted")
                .mov(R1, (int) EXHAUSTED).store(4, R10, KEY, R1)
                .loadMap(R1, namespaces).movReg(R2, R10).alu(ADD, R2, KEY)
                .call(FUNC_MAP_LOOKUP_ELEM).jump(JEQ, R0, 0, "allow")
                .label("found")
                .load(4, R1, R0, 0)
                .movReg(R7, R8).alu(LSH, R7, 1).aluReg(OR, R7, R8).aluReg(AND, R7, R1)
                .jump(JEQ, R7, 0, "allow")
                .call(FUNC_GET_CURRENT_PID_TGID).store(8, R10, EV, R0)
                .call(FUNC_GET_CURRENT_UID_GID).store(8, R10, EV + 8, R0)
                .load(4, R1, R10, OWN_NS).store(4, R10, EV + 16, R1)
                .load(4, R1, R10, KEY).store(4, R10, EV + 20, R1)
                .load(8, R1, R6, bprmFile)
                .load(8, R2, R1, fileInode)
                .load(inoSize, R3, R2, inodeIno).store(8, R10, EV + 24, R3)
                .load(8, R3, R2, inodeSb).load(4, R3, R3, sbDev).store(4, R10, EV + 32, R3)
                .store(4, R10, EV + 36, R7)
                .movReg(R1, R10).alu(ADD, R1, EV + COMM).mov(R2, 16).call(FUNC_GET_CURRENT_COMM)
                .load(8, R1, R6, bprmFile).load(8, R1, R1, fileDentry).load(8, R3, R1, dentryName)
                .movReg(R1, R10).alu(ADD, R1, EV + NAME).mov(R2, NAME_SIZE).call(FUNC_PROBE_READ_KERNEL_STR)
                .loadMap(R1, ring).movReg(R2, R10).alu(ADD, R2, EV).mov(R3, EVENT_SIZE).mov(R4, 0)
                .call(FUNC_RINGBUF_OUTPUT).jump(JEQ, R0, 0, "reported")
                // The ring was full: counted, so that a lost record is known to be lost.
                .mov(R1, 0).store(4, R10, KEY, R1)
                .loadMap(R1, lost).movReg(R2, R10).alu(ADD, R2, KEY)
                .call(FUNC_MAP_LOOKUP_ELEM).jump(JEQ, R0, 0, "reported")
                .mov(R1, 1).atomicAdd64(R0, 0, R1)
                .label("reported")
                .aluReg(AND, R7, R8).jump(JEQ, R7, 0, "allow")
                .mov(R1, SIGKILL).call(FUNC_SEND_SIGNAL)
                .label("allow")
                .mov(R0, 0).exit();
        return a.assemble();
    }
}
