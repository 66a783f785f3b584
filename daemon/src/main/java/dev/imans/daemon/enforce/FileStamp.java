package dev.imans.daemon.enforce;

import dev.imans.daemon.fanotify.PermissionEvent;
import dev.imans.linux.Stat;

/**
 * The state of a file's content and attributes as {@code fstat} shows it: size, mtime, ctime. Any write,
 * truncate or xattr change moves ctime, so a cached verdict is valid only while the stamp is unchanged.
 */
public record FileStamp(long size, long mtimeSec, int mtimeNsec, long ctimeSec, int ctimeNsec) {
    public static FileStamp of(PermissionEvent e) {
        return new FileStamp(e.size(), e.mtimeSec(), e.mtimeNsec(), e.ctimeSec(), e.ctimeNsec());
    }

    public static FileStamp of(Stat.Buffer st) {
        return new FileStamp(st.size(), st.mtimeSec(), st.mtimeNsec(), st.ctimeSec(), st.ctimeNsec());
    }
}
