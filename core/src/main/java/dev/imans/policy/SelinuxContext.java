package dev.imans.policy;

import java.util.Optional;

/**
 * An SELinux security context, {@code user:role:type[:level]}, as {@code /proc/PID/attr/current} and
 * the {@code security.selinux} attribute give it. IMA's {@code obj_user=}, {@code obj_role=},
 * {@code obj_type=} and their {@code subj_} forms compare one field ({@code selinux_audit_rule_match},
 * {@code Audit_equal}); the level, which may hold colons of its own ({@code s0-s0:c0.c1023}), is kept
 * whole and compared by none of them.
 */
public record SelinuxContext(String user, String role, String type, String level) {
    /** The context in {@code text} (a trailing NUL or newline allowed); empty when it has fewer than three fields. */
    public static Optional<SelinuxContext> parse(String text) {
        String s = text;
        while (!s.isEmpty() && (s.endsWith("\0") || s.endsWith("\n"))) {
            s = s.substring(0, s.length() - 1);
        }
        String[] f = s.split(":", 4);
        if (f.length < 3 || f[0].isEmpty() || f[1].isEmpty() || f[2].isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new SelinuxContext(f[0], f[1], f[2], f.length == 4 ? f[3] : ""));
    }

    /** The field an LSM condition compares: user, role or type. */
    String field(LsmKey key) {
        return switch (key) {
            case OBJ_USER, SUBJ_USER -> user;
            case OBJ_ROLE, SUBJ_ROLE -> role;
            case OBJ_TYPE, SUBJ_TYPE -> type;
        };
    }
}
