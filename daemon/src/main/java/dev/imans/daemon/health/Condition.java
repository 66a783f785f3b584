package dev.imans.daemon.health;

/**
 * The kinds of degraded state the daemon can be in. Those that {@link #suspendsIgnoreMarks()} make
 * an ignore mark unsafe (it could hide an open that must now be judged): while one lasts, no new mark
 * is added and every open gets the full decision.
 */
public enum Condition {
    /** A policy or registration changed and the old ignore marks could not be dropped. */
    IGNORE_MARKS_STALE("ignore-marks-stale", true),
    /** The thread that drops ignore marks when files are written is not running. */
    MODIFICATION_WATCHER_DOWN("modification-watcher-down", true),
    /**
     * The modification watcher is behind: inside one batch for too long (a path walk it makes through a
     * namespace's mounts can wait on a FUSE server that does not answer), or with more events waiting
     * than it handles in a batch (a process that opens or writes files fast enough can keep it so).
     * Meanwhile an open of an ignore-marked file just after a write through a shared mapping would be
     * answered by a mark nobody has dropped yet.
     */
    MODIFICATION_WATCHER_BEHIND("modification-watcher-behind", true),
    /**
     * A marked overlay has a layer whose writes the daemon cannot watch (its path, as the mount options
     * name it, leads nowhere from the daemon, or the watch was refused): a write beside the overlay
     * would leave the overlay's ignore marks standing on changed content, so no overlay file gets one
     * while it lasts (each open of one is judged). Marks of other filesystems are not affected.
     */
    OVERLAY_LAYERS_UNWATCHED("overlay-layers-unwatched", false),
    /** A filesystem that should be enforced on has no fanotify mark: its opens are not seen at all. */
    FILESYSTEM_UNMARKED("filesystem-unmarked", false),
    /**
     * The kernel's internal hugetlbfs of one huge page size (the filesystem of MFD_HUGETLB memfds of that
     * size) has no fanotify mark: opens and execs of such memfds are not seen. Apart from
     * {@link #FILESYSTEM_UNMARKED}, whose states the mount scans settle: no mount table shows it.
     */
    HUGETLBFS_UNMARKED("hugetlbfs-unmarked", false),
    /** The registrations and policies in force are not saved: a restart would lose them. */
    STATE_UNSAVED("state-unsaved", false),
    /**
     * A measurement list's file could not be written: its entries since are in memory only (a restart
     * would lose them) until the whole list is written anew.
     */
    MEASUREMENTS_UNSAVED("measurements-unsaved", false),
    /** The audit log could not be reopened (SIGHUP); records still go to the previous file. */
    AUDIT_LOG_NOT_REOPENED("audit-log-not-reopened", false),
    /**
     * The TPM anchor PCR holds neither the replay of the anchor log nor its reset value: a quote of it
     * vouches for nothing this daemon listed, until the TPM is reset (a reboot) and a new epoch begins.
     */
    TPM_ANCHOR_MISMATCH("tpm-anchor-mismatch", false),
    /**
     * The TPM of the anchor could not be used at start (unreachable, or its PCR or the anchor log not
     * readable): no list is anchored until it can be (retried), and each measured open is audited as a
     * failed extension meanwhile.
     */
    TPM_UNAVAILABLE("tpm-unavailable", false),
    /**
     * Extending the TPM anchor PCR failed: the entries since are in the lists and the anchor log but not
     * yet in the PCR (retried, in order, until the TPM takes them).
     */
    TPM_EXTEND_FAILED("tpm-extend-failed", false),
    /**
     * The exec guard's map could not be brought to the policies in force: execs of memfds are judged by
     * the previous policies until a retry succeeds.
     */
    MEMFD_GUARD_STALE("memfd-guard-stale", false),
    /** A policy or registration change was not applied to enforcement. */
    POLICY_NOT_APPLIED("policy-not-applied", true);

    private final String label;
    private final boolean suspendsIgnoreMarks;

    Condition(String label, boolean suspendsIgnoreMarks) {
        this.label = label;
        this.suspendsIgnoreMarks = suspendsIgnoreMarks;
    }

    /** The name shown in {@code .imans/health}. */
    public String label() {
        return label;
    }

    public boolean suspendsIgnoreMarks() {
        return suspendsIgnoreMarks;
    }
}
