package dev.imans.daemon.ns;

/**
 * The process behind one control-file request, as the kernel reported it (in the daemon's pid
 * namespace; pid 0 when the caller is not visible there), and, once {@link #withTask} has read
 * them, the facts an audit record names it by.
 *
 * @param comm the command name, empty until read
 * @param auid the login uid, {@code 4294967295} when unset or unknown
 * @param ses the audit session, {@code 4294967295} when unset or unknown
 */
public record Caller(long pid, int uid, int gid, String comm, long auid, long ses) {
    /** The kernel's "unset" login uid and session ({@code (u32)-1}). */
    public static final long UNSET = 0xffff_ffffL;

    public Caller(long pid, int uid, int gid) {
        this(pid, uid, gid, "", UNSET, UNSET);
    }

    /** This caller with its command name, login uid and session read from {@code /proc}. */
    public Caller withTask(Proc proc) {
        return new Caller(pid, uid, gid, proc.comm(pid).orElse(""),
                proc.number(pid, "loginuid").orElse(UNSET), proc.number(pid, "sessionid").orElse(UNSET));
    }
}
