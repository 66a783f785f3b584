package dev.imans.linux;

/**
 * The subject facts IMA policy rules and audit records use, from {@code /proc/PID/status}: real,
 * effective, saved and filesystem uids and gids, and the effective capability set ({@code CapEff}).
 */
public record ProcStatus(int tgid, int ppid, int ruid, int euid, int suid, int fsuid,
        int rgid, int egid, int sgid, int fsgid, long capEff) {

    /** Parses the text of {@code /proc/PID/status} (fs/proc/array.c, {@code task_state()} and {@code render_cap_t}). */
    public static ProcStatus parse(String text) {
        int tgid = -1;
        int ppid = -1;
        int[] uids = null;
        int[] gids = null;
        long capEff = -1;
        for (String line : text.split("\n")) {
            int colon = line.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String key = line.substring(0, colon);
            String value = line.substring(colon + 1).strip();
            switch (key) {
                case "Tgid" -> tgid = Integer.parseInt(value);
                case "PPid" -> ppid = Integer.parseInt(value);
                case "Uid" -> uids = ids(value);
                case "Gid" -> gids = ids(value);
                case "CapEff" -> capEff = Long.parseUnsignedLong(value, 16);
                default -> { }
            }
        }
        if (uids == null || gids == null || capEff == -1 || tgid < 0) {
            throw new IllegalArgumentException("/proc status without Tgid, Uid, Gid or CapEff");
        }
        return new ProcStatus(tgid, ppid, uids[0], uids[1], uids[2], uids[3], gids[0], gids[1], gids[2], gids[3],
                capEff);
    }

    private static int[] ids(String value) {
        String[] f = value.split("\\s+");
        if (f.length != 4) {
            throw new IllegalArgumentException("expected 4 ids, got: " + value);
        }
        int[] out = new int[4];
        for (int i = 0; i < 4; i++) {
            out[i] = Integer.parseUnsignedInt(f[i]);
        }
        return out;
    }

    /** Whether {@code CapEff} holds capability number {@code cap} (include/uapi/linux/capability.h). */
    public boolean hasCapability(int cap) {
        return (capEff & (1L << cap)) != 0;
    }
}
