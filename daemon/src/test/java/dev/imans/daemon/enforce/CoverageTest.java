package dev.imans.daemon.enforce;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imans.appraise.AppraiseMode;
import dev.imans.crypto.HashAlgo;
import dev.imans.crypto.Keyring;
import dev.imans.policy.FileFacts;
import dev.imans.policy.PolicyParser;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * What a snapshot keeps per kind of file ({@link Policies#coverage}) is what the walks of every rule
 * of every scope give, for random policies in random modes, whether kept or worked out anew.
 */
class CoverageTest {
    private static final UUID U1 = UUID.fromString("a4f1a3b6-8d2e-4c3a-9a55-1f0e5e2c7d10");
    private static final List<String> RULES = List.of(
            "measure", "measure fsmagic=0x01021994 pcr=11", "appraise fsmagic=0x01021994", "appraise fowner=0",
            "appraise fsname=ext4 appraise_type=imasig", "appraise fsuuid=" + U1 + " appraise_algos=sha512",
            "audit func=FILE_CHECK fgroup=5", "dont_appraise fsname=tmpfs", "appraise func=BPRM_CHECK",
            "measure func=MODULE_CHECK", "appraise uid=0", "audit fsmagic=0xef53", "measure fgroup=5 pcr=12");
    private static final AppraiseMode[] MODES = AppraiseMode.values();

    @Test
    void whatASnapshotKeepsIsWhatTheWalksGive() throws Exception {
        Random random = new Random(20261130);
        long[] magics = {0x01021994L, 0xef53L, 0x794c7630L};
        String[] names = {"tmpfs", "ext4", "overlay"};
        UUID[] uuids = {U1, FileFacts.NO_UUID};
        for (int round = 0; round < 200; round++) {
            Map<Long, Scope> namespaces = new HashMap<>();
            int n = random.nextInt(3);
            for (int i = 0; i < n; i++) {
                namespaces.put(100L + i, scope(random, OptionalLong.of(100L + i)));
            }
            Policies p = new Policies(scope(random, OptionalLong.empty()), namespaces);
            for (int a = 0; a < 30; a++) {
                FileFacts f = new FileFacts(magics[random.nextInt(magics.length)], names[random.nextInt(names.length)],
                        uuids[random.nextInt(uuids.length)], random.nextInt(2), 4 + random.nextInt(2));
                for (int twice = 0; twice < 2; twice++) {
                    Coverage.OfFile c = p.coverage(f, HashAlgo.SHA256);
                    assertThat(c.any()).isEqualTo(Coverage.anyMayCover(p, f));
                    assertThat(c.requirements()).containsExactlyElementsOf(Coverage.requirements(p, f, HashAlgo.SHA256));
                    assertThat(c.measurePcrs()).containsExactlyElementsOf(Coverage.measurePcrs(p, f));
                    assertThat(c.auditScopes()).containsExactlyElementsOf(Coverage.auditScopes(p, f));
                    assertThat(c.rehash()).isEqualTo(Coverage.rehashMayCover(p, f));
                    assertThat(c.enforce()).isEqualTo(Coverage.enforceMayCover(p, f));
                }
                // Another default algorithm is worked out anew, not taken from what was kept.
                assertThat(p.coverage(f, HashAlgo.SHA512).requirements())
                        .containsExactlyElementsOf(Coverage.requirements(p, f, HashAlgo.SHA512));
            }
        }
    }

    private static Scope scope(Random random, OptionalLong ns) throws Exception {
        StringBuilder text = new StringBuilder();
        int n = random.nextInt(6);
        for (int i = 0; i < n; i++) {
            text.append(RULES.get(random.nextInt(RULES.size()))).append('\n');
        }
        return new Scope(ns, n == 0 ? dev.imans.policy.Policy.empty() : PolicyParser.parse(text.toString()), MODES[random.nextInt(MODES.length)],
                random.nextBoolean(), Keyring.empty());
    }

    /**
     * A container's policy of LSM-conditioned rules may cover its root where SELinux is active (the
     * file's context is known only at its open), so the root is marked; elsewhere no LSM condition holds.
     */
    @Test
    void sharedFilesystemsCountLsmRulesWhereTheirConditionsCanHold() throws Exception {
        Scope ns = new Scope(OptionalLong.of(100L), PolicyParser.parse(
                "appraise func=BPRM_CHECK obj_type=container_file_t appraise_type=imasig\n",
                dev.imans.policy.KernelProfile.defaults().withLsmRules(
                        java.util.EnumSet.allOf(dev.imans.policy.LsmKey.class))), AppraiseMode.ENFORCE,
                false, Keyring.empty());
        Policies p = new Policies(new Scope(OptionalLong.empty(), dev.imans.policy.Policy.empty(), AppraiseMode.ENFORCE,
                false, Keyring.empty()), Map.of(100L, ns));
        assertThat(SharedFilesystems.mayCover(p, 100L, 0x794c7630L, "overlay", true)).isTrue();
        assertThat(SharedFilesystems.mayCover(p, 100L, 0x794c7630L, "overlay", false)).isFalse();
        assertThat(SharedFilesystems.mayCover(p, 101L, 0x794c7630L, "overlay", true)).as("another namespace").isFalse();
    }
}
