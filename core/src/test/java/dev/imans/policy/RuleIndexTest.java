package dev.imans.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imans.crypto.HashAlgo;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The indexed matcher gives exactly what a walk of every rule gives (the kernel's {@code ima_match_policy}),
 * for random policies and accesses drawn from rules that differ in every condition the index sorts by.
 */
class RuleIndexTest {
    private static final UUID U1 = UUID.fromString("a4f1a3b6-8d2e-4c3a-9a55-1f0e5e2c7d10");
    private static final UUID U2 = UUID.fromString("0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0");
    private static final List<String> RULES = List.of(
            "measure", "dont_measure fsmagic=0x9fa0", "dont_measure fsmagic=0x01021994", "measure func=BPRM_CHECK",
            "measure func=FILE_CHECK mask=MAY_READ uid=0", "appraise fowner=0", "appraise fsmagic=0x01021994",
            "dont_appraise fsname=tmpfs", "appraise fsname=ext4 appraise_type=imasig", "appraise fsuuid=" + U1,
            "dont_appraise fsuuid=" + U1, "measure fsuuid=" + U2 + " pcr=11", "audit func=FILE_CHECK",
            "hash fsmagic=0xef53", "dont_hash", "measure template=ima-sig euid=1000",
            "appraise func=BPRM_CHECK appraise_algos=sha256", "measure func=MODULE_CHECK", "appraise gid=100",
            "measure fgroup=5 pcr=12", "dont_measure func=BPRM_CHECK fsname=ext4", "appraise fsuuid="
                    + new UUID(0, 0));

    @Test
    void theIndexChangesNoResult() throws PolicyException {
        Random random = new Random(20261129);
        long[] magics = {0x01021994L, 0xef53L, 0x9fa0L, 0x794c7630L};
        String[] names = {"tmpfs", "ext4", "proc", "overlay", ""};
        UUID[] uuids = {U1, U2, FileFacts.NO_UUID, null};
        Func[] funcs = {Func.FILE_CHECK, Func.BPRM_CHECK, Func.MODULE_CHECK, Func.POST_SETATTR};
        for (int p = 0; p < 300; p++) {
            StringBuilder text = new StringBuilder();
            int n = 1 + random.nextInt(30);
            for (int i = 0; i < n; i++) {
                text.append(RULES.get(random.nextInt(RULES.size()))).append('\n');
            }
            Policy policy = PolicyParser.parse(text.toString());
            for (int a = 0; a < 40; a++) {
                FileFacts file = new FileFacts(magics[random.nextInt(magics.length)], names[random.nextInt(names.length)],
                        uuids[random.nextInt(uuids.length)], random.nextInt(2), random.nextInt(6));
                int id = random.nextInt(2) == 0 ? 0 : 1000;
                AccessFacts facts = new AccessFacts(funcs[random.nextInt(funcs.length)],
                        1 << random.nextInt(4), file, id, id, id, 100, 100, 100, random.nextBoolean(), false, null, null);
                assertThat(PolicyMatcher.match(policy, facts)).as("%s for %s", text, facts)
                        .isEqualTo(walkEveryRule(policy, facts));
            }
        }
    }

    /** {@code ima_match_policy} as written: every rule in order, no index. */
    private static MatchResult walkEveryRule(Policy policy, AccessFacts facts) {
        int flags = 0;
        for (Rule r : policy.rules()) {
            if (r.func() != Func.SETXATTR_CHECK && r.action().isDo()) {
                flags |= r.action().bit();
            }
        }
        int actmask = flags | (flags << 1);
        int action = 0;
        int pcr = MatchResult.DEFAULT_PCR;
        Template template = null;
        boolean digsig = false;
        boolean modsig = false;
        boolean verity = false;
        boolean directio = false;
        Set<HashAlgo> algos = EnumSet.noneOf(HashAlgo.class);
        List<Rule> matched = new ArrayList<>();
        int doMask = Action.MEASURE.bit() | Action.APPRAISE.bit() | Action.AUDIT.bit() | Action.HASH.bit();
        for (Rule r : policy.rules()) {
            if (actmask == 0) {
                break;
            }
            int bit = r.action().bit();
            if ((bit & actmask) == 0 || !PolicyMatcher.matches(r, facts)) {
                continue;
            }
            matched.add(r);
            digsig |= r.digsigRequired();
            modsig |= r.modsigAllowed();
            verity |= r.verityRequired();
            directio |= r.permitDirectio();
            action |= bit & doMask;
            if (r.action() == Action.APPRAISE) {
                action &= ~Action.HASH.bit();
                if (!r.appraiseAlgos().isEmpty()) {
                    algos = EnumSet.copyOf(r.appraiseAlgos());
                }
            }
            actmask &= r.action().isDo() ? ~(bit | bit << 1) : ~(bit | bit >> 1);
            if (r.pcr() != null) {
                pcr = r.pcr();
            }
            if (r.template() != null) {
                template = r.template();
            }
        }
        return new MatchResult((action & Action.MEASURE.bit()) != 0, (action & Action.APPRAISE.bit()) != 0,
                (action & Action.AUDIT.bit()) != 0, (action & Action.HASH.bit()) != 0, pcr, template, digsig, modsig,
                verity, algos, directio, matched);
    }
}
