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
            new FileFacts(0x9123683EL, "btrfs", null, 1000, 5),
            // On a kernel running SELinux, files carry contexts.
            new FileFacts(EXT4, "ext4", B, 0, 0, ctx("system_u:object_r:etc_t:s0")),
            new FileFacts(TMPFS, "tmpfs", A, 1000, 1000, ctx("unconfined_u:object_r:user_tmp_t:s0-s0:c0.c1023")));

    /** Task contexts, for accesses to labelled files. */
    private static final List<SelinuxContext> SUBJECTS = List.of(
            ctx("system_u:system_r:init_t:s0"),
            ctx("unconfined_u:unconfined_r:unconfined_t:s0-s0:c0.c1023"),
            ctx("user_u:user_r:user_t:s0"),
            ctx("sysadm_u:unconfined:sysadm_t:s0"));

    private static SelinuxContext ctx(String text) {
        return SelinuxContext.parse(text).orElseThrow();
    }

    /** A kernel running SELinux, which builds all six LSM conditions. */
    private static final KernelProfile SELINUX = KernelProfile.defaults().withLsmRules(ActiveLsms.parse("selinux").ruleKeys());

    private static Rule rule(String text) {
        try {
            return PolicyParser.parse(text, SELINUX).rules().getFirst();
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
                        AccessFacts a = AccessFacts.of(func, mask).withFile(file).withUids(id[0], id[1], id[2])
                                .withGids(id[0], id[1], id[2]).withCapabilities(cap, cap);
                        if (file.label() == null) {
                            out.add(a);
                        } else {
                            SUBJECTS.forEach(subject -> out.add(a.withSubject(subject)));
                        }
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
            "measure subj_role=unconfined_r",
            "appraise subj_type=init_t subj_user=system_u",
            "appraise obj_type=etc_t",
            "appraise obj_user=unconfined_u obj_role=object_r",
            "appraise obj_type=etc_t subj_type=user_t fowner=0",
            "dont_appraise obj_type=user_tmp_t",
            "appraise obj_type=no_such_t",
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
            p = PolicyParser.parse("dont_appraise fsuuid=" + A + "\nappraise fsname=btrfs\n", SELINUX);
        } catch (PolicyException e) {
            throw new AssertionError(e);
        }
        assertThat(PolicyMatcher.match(p, unknown).appraise()).isTrue();
        assertThat(PolicyMatcher.match(p, unknown.withFilesystem(0x9123683EL, "btrfs", A)).appraise()).isFalse();
    }

    @Test
    void selinuxConditionsCompareOneFieldOfTheContexts() {
        AccessFacts a = AccessFacts.of(Func.FILE_CHECK, READ)
                .withFile(FileFacts.rootFile().withLabel(ctx("system_u:object_r:shadow_t:s0")))
                .withSubject(ctx("staff_u:staff_r:staff_t:s0-s0:c0.c1023"));
        assertThat(PolicyMatcher.matches(rule("appraise obj_type=shadow_t"), a)).isTrue();
        assertThat(PolicyMatcher.matches(rule("appraise obj_type=etc_t"), a)).isFalse();
        assertThat(PolicyMatcher.matches(rule("appraise obj_user=system_u obj_role=object_r"), a)).isTrue();
        assertThat(PolicyMatcher.matches(rule("appraise subj_type=staff_t subj_role=staff_r"), a)).isTrue();
        assertThat(PolicyMatcher.matches(rule("appraise subj_user=system_u"), a)).isFalse();
        // The level is compared by none of them: s0 is no type.
        assertThat(PolicyMatcher.matches(rule("appraise subj_type=s0"), a)).isFalse();
        // Without contexts (no SELinux) no LSM condition holds, whatever it names.
        AccessFacts unlabelled = AccessFacts.of(Func.FILE_CHECK, READ);
        assertThat(PolicyMatcher.matches(rule("appraise obj_type=shadow_t"), unlabelled)).isFalse();
        assertThat(PolicyMatcher.mayCover(rule("appraise subj_type=staff_t"), FileFacts.rootFile())).isFalse();
    }

    @Test
    void contextsParseAsUserRoleTypeAndAWholeLevel() {
        assertThat(SelinuxContext.parse("system_u:system_r:sshd_t:s0-s0:c0.c1023\0"))
                .contains(new SelinuxContext("system_u", "system_r", "sshd_t", "s0-s0:c0.c1023"));
        assertThat(SelinuxContext.parse("user_u:user_r:user_t\n")).contains(new SelinuxContext("user_u", "user_r",
                "user_t", ""));
        assertThat(SelinuxContext.parse("unconfined")).isEmpty();
        assertThat(SelinuxContext.parse("a::c:s0")).isEmpty();
        assertThat(SelinuxContext.parse("")).isEmpty();
    }
}
