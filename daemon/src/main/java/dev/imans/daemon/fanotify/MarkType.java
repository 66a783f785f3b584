package dev.imans.daemon.fanotify;

/** How a filesystem was marked: the whole superblock (every mount namespace) or one mount (fallback). */
public enum MarkType {
    /** FAN_MARK_FILESYSTEM (4.20+): opens through every mount of the filesystem, in every namespace. */
    FILESYSTEM,
    /** FAN_MARK_MOUNT: only opens through this mount; copies of it in other namespaces are not seen. */
    MOUNT
}
