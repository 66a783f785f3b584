package dev.imans.policy;

import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The LSMs active on a kernel (as {@code /sys/kernel/security/lsm} lists them) and which IMA LSM
 * conditions they can build rules for ({@code security_audit_rule_init}): SELinux all six
 * ({@code selinux_audit_rule_init}), Smack {@code subj_user} and {@code obj_user}
 * ({@code smack_audit_rule_init}), AppArmor {@code subj_role} only ({@code aa_audit_rule_init}). The
 * others (capability, lockdown, landlock, yama, bpf, ...) build none.
 */
public record ActiveLsms(List<String> names) {
    public ActiveLsms {
        names = List.copyOf(names);
    }

    /** From a comma-separated list, as {@code /sys/kernel/security/lsm} or {@code --lsm} give it. */
    public static ActiveLsms parse(String list) {
        String s = list.strip();
        return new ActiveLsms(s.isEmpty() || s.equals("none") ? List.of() : List.of(s.split("\\s*,\\s*")));
    }

    /** The conditions {@code lsm} builds rules for. */
    public static Set<LsmKey> keysOf(String lsm) {
        return switch (lsm) {
            case "selinux" -> EnumSet.allOf(LsmKey.class);
            case "smack" -> EnumSet.of(LsmKey.SUBJ_USER, LsmKey.OBJ_USER);
            case "apparmor" -> EnumSet.of(LsmKey.SUBJ_ROLE);
            default -> EnumSet.noneOf(LsmKey.class);
        };
    }

    /** Every condition some active LSM builds rules for: what the kernel accepts on its first policy write. */
    public Set<LsmKey> ruleKeys() {
        Set<LsmKey> out = EnumSet.noneOf(LsmKey.class);
        names.forEach(n -> out.addAll(keysOf(n)));
        return out;
    }

    /** The active LSM that judges {@code key} in the kernel, if any. */
    public Optional<String> judgeOf(LsmKey key) {
        return names.stream().filter(n -> keysOf(n).contains(key)).findFirst();
    }

    @Override
    public String toString() {
        return names.isEmpty() ? "none" : String.join(",", names);
    }
}
