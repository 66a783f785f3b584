package dev.imans.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * {@link PolicyMatcher#mayCover} (may any open or exec of this file match?) and
 * {@link PolicyMatcher#matches} (does this access match?) agree for every condition: a rule may cover a
 * file exactly when some access in a grid of opens and execs by different tasks matches it.
 */
class UnifiedMatcherTest {
    private static final long TMPFS = FsMagic.TMPFS_MAGIC.value();
    private static final long EXT4 = 0xEF53L;
    private static final UUID A = UUID.fromString("11111111-2222-3333-4444-555555555555");
    private static final UUID B = UUID.fromString("6a2ec3e7-f8dc-4e9b-9d3c-e1d1f5b4f8a1");
    private static final int READ = Mask.MAY_READ.bit();
    private static final int WRITE = Mask.MAY_WRITE.bit();
    private static final int EXEC = Mask.MAY_EXEC.bit();
    private static final int APPEND = Mask.MAY_APPEND.bit();

    /** Files on filesystems with a UUID, without one (zero), and with one that could not be read (null). */
    private static final List<FileFacts> FILES = List.of(
            new FileFacts(TMPFS, "tmpfs", A, 0, 0),
            new FileFacts(TMPFS, "tmpfs", B, 1000, 1000),
            new FileFacts(EXT4, "ext4", B, 0, 100),
            new FileFacts(EXT4, "ext4", FileFacts.NO_UUID, 71452, 0),
            new FileFacts(0x794c7630L, "overlay", FileFacts.NO_UUID, 0, 0),
            new FileFacts(0x9123683EL, "btrfs", null, 0, 0),
            new FileFacts(0x9123683EL, "btrfs", null, 1000, 5));

    private static Rule rule(String text) {
        try {
            return PolicyParser.parse(text).rules().getFirst();
        } catch (PolicyException e) {
            throw new AssertionError(e.errors().toString(), e);
        }
    }

    /** Opens (every mask) and execs by root, a user, a setuid-capable task with mixed ids, a group member. */
    private static List<AccessFacts> accesses(FileFacts file) {
        List<AccessFacts> out = new ArrayList<>();
        int[] masks = {READ, WRITE, READ | WRITE, APPEND, WRITE | APPEND, EXEC, READ | EXEC};
        long[][] ids = {{0, 0, 0}, {1000, 1000, 1000}, {1000, 0, 1000}, {0, 1000, 5}, {65534, 65534, 65534}};
        for (Func func : List.of(Func.FILE_CHECK, Func.BPRM_CHECK)) {
            for (int mask : masks) {
                for (long[] id : ids) {
                    for (boolean cap : new boolean[] {false, true}) {
                        out.add(AccessFacts.of(func, mask).withFile(file).withUids(id[0], id[1], id[2])
                                .withGids(id[0], id[1], id[2]).withCapabilities(cap, cap));
                    }
                }
            }
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "measure",
            "appraise fsmagic=0x1021994",
            "appraise fsmagic=0xef53",
            "dont_appraise fsmagic=0x1021994",
            "measure fsname=tmpfs",
            "measure fsname=ext4",
            "appraise fsuuid=11111111-2222-3333-4444-555555555555",
            "appraise fsuuid=6a2ec3e7-f8dc-4e9b-9d3c-e1d1f5b4f8a1",
            "appraise fsuuid=00000000-0000-0000-0000-000000000000",
            "dont_appraise fsuuid=11111111-2222-3333-4444-555555555555",
            "dont_measure fsuuid=00000000-0000-0000-0000-000000000000",
            "appraise fowner=0",
            "appraise fowner>999",
            "appraise fowner<1000",
            "appraise fgroup=100",
            "appraise fgroup>0",
            "appraise uid=1000",
            "appraise euid=0",
            "appraise euid>999",
            "appraise gid=1000",
            "appraise egid=0",
            "measure mask=MAY_READ",
            "measure mask=^MAY_WRITE",
            "measure mask=MAY_EXEC",
            "measure func=FILE_CHECK",
            "appraise func=BPRM_CHECK",
            "appraise func=BPRM_CHECK mask=MAY_EXEC fsname=tmpfs fowner=1000 uid=1000",
            "measure func=MMAP_CHECK",
            "appraise func=MODULE_CHECK",
            "measure func=CREDS_CHECK",
            "appraise func=SETXATTR_CHECK appraise_algos=sha256",
            "measure subj_role=unconfined",
            "appraise fsmagic=0x1021994 fsuuid=11111111-2222-3333-4444-555555555555 fgroup=0",
            "audit fsname=ext4 fowner=71452",
            "hash fsuuid=6a2ec3e7-f8dc-4e9b-9d3c-e1d1f5b4f8a1",
            "dont_hash fsname=btrfs"})
    void mayCoverExactlyWhenSomeAccessMatches(String text) {
        Rule r = rule(text);
        for (FileFacts f : FILES) {
            boolean some = accesses(f).stream().anyMatch(a -> PolicyMatcher.matches(r, a));
            assertThat(PolicyMatcher.mayCover(r, f)).as("%s on %s", text, f).isEqualTo(some);
        }
    }

    @Test
    void aRuleNamingTheZeroUuidMatchesFilesystemsWithoutOne() {
        Rule zero = rule("appraise fsuuid=00000000-0000-0000-0000-000000000000");
        AccessFacts open = AccessFacts.of(Func.FILE_CHECK, READ);
        assertThat(PolicyMatcher.matches(zero, open.withFilesystem(EXT4, "ext4", FileFacts.NO_UUID))).isTrue();
        assertThat(PolicyMatcher.matches(zero, open.withFilesystem(EXT4, "ext4", A))).isFalse();
    }

    @Test
    void anUnreadableUuidEnforcesMore() {
        AccessFacts unknown = AccessFacts.of(Func.FILE_CHECK, READ).withFilesystem(0x9123683EL, "btrfs", null);
        assertThat(PolicyMatcher.matches(rule("appraise fsuuid=" + A), unknown)).isTrue();
        assertThat(PolicyMatcher.matches(rule("dont_appraise fsuuid=" + A), unknown)).isFalse();
        Policy p;
        try {
            p = PolicyParser.parse("dont_appraise fsuuid=" + A + "\nappraise fsname=btrfs\n");
        } catch (PolicyException e) {
            throw new AssertionError(e);
        }
        assertThat(PolicyMatcher.match(p, unknown).appraise()).isTrue();
        assertThat(PolicyMatcher.match(p, unknown.withFilesystem(0x9123683EL, "btrfs", A)).appraise()).isFalse();
    }
}
