package dev.imans.linux;

/**
 * The subject facts IMA policy rules and audit records use, from {@code /proc/PID/status}: real,
 * effective, saved and filesystem uids and gids, and the effective capability set ({@code CapEff}).
 */
public record ProcStatus(int tgid, int ppid, int ruid, int euid, int suid, int fsuid,
        int rgid, int egid, int sgid, int fsgid, long capEff) {

    /** Parses the text of {@code /proc/PID/status} (fs/proc/array.c, {@code task_state()} and {@code render_cap_t}). */
    public static ProcStatus parse(String text) {
        // Only five of the fifty-odd lines are wanted: found by their keys, not by splitting every line
        // (which cost about 20 us per cold event that reads the file).
        String tgid = value(text, "Tgid:");
        String uid = value(text, "Uid:");
        String gid = value(text, "Gid:");
        String capEff = value(text, "CapEff:");
        if (uid == null || gid == null || capEff == null || tgid == null) {
            throw new IllegalArgumentException("/proc status without Tgid, Uid, Gid or CapEff");
        }
        String ppid = value(text, "PPid:");
        int[] uids = ids(uid);
        int[] gids = ids(gid);
        return new ProcStatus(Integer.parseInt(tgid), ppid == null ? -1 : Integer.parseInt(ppid), uids[0], uids[1],
                uids[2], uids[3], gids[0], gids[1], gids[2], gids[3], Long.parseUnsignedLong(capEff, 16));
    }

    /** The value of the line that starts with {@code key}, stripped; null without one. */
    private static String value(String text, String key) {
        int from = key.length();
        if (!text.startsWith(key)) {
            int at = text.indexOf("\n" + key);
            if (at < 0) {
                return null;
            }
            from += at + 1;
        }
        int end = text.indexOf('\n', from);
        return text.substring(from, end < 0 ? text.length() : end).strip();
    }

    private static int[] ids(String value) {
        int[] out = new int[4];
        int n = 0;
        int i = 0;
        int len = value.length();
        while (i < len) {
            while (i < len && Character.isWhitespace(value.charAt(i))) {
                i++;
            }
            int start = i;
            while (i < len && !Character.isWhitespace(value.charAt(i))) {
                i++;
            }
            if (start == i) {
                break;
            }
            if (n == 4) {
                throw new IllegalArgumentException("expected 4 ids, got: " + value);
            }
            out[n++] = Integer.parseUnsignedInt(value, start, i, 10);
        }
        if (n != 4) {
            throw new IllegalArgumentException("expected 4 ids, got: " + value);
        }
        return out;
    }

    /** Whether {@code CapEff} holds capability number {@code cap} (include/uapi/linux/capability.h). */
    public boolean hasCapability(int cap) {
        return (capEff & (1L << cap)) != 0;
    }
}
