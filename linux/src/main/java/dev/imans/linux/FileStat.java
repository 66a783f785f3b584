package dev.imans.linux;

/**
 * What {@code statx(2)} says about a file: the identity IMA keys on (device, inode) and the facts that
 * tell whether it changed (size, mtime, ctime, with nanoseconds).
 */
public record FileStat(int devMajor, int devMinor, long ino, int mode, int nlink, int uid, int gid, long size,
        long mtimeSec, int mtimeNsec, long ctimeSec, int ctimeNsec, long mountId) {

    /** {@code major << 32 | minor}: one number for a device, for keys. */
    public long dev() {
        return ((long) devMajor << 32) | (devMinor & 0xffffffffL);
    }

    public int fileType() {
        return mode & Stat.S_IFMT;
    }

    public boolean isRegularFile() {
        return fileType() == Stat.S_IFREG;
    }

    public boolean isDirectory() {
        return fileType() == Stat.S_IFDIR;
    }

    public boolean isFifo() {
        return fileType() == Stat.S_IFIFO;
    }

    public boolean isDevice() {
        return fileType() == Stat.S_IFCHR || fileType() == Stat.S_IFBLK;
    }

    /** Permission bits and set-id/sticky bits, without the type. */
    public int permissions() {
        return mode & 07777;
    }
}
