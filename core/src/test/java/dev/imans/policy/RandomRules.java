package dev.imans.policy;

import dev.imans.crypto.HashAlgo;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.UUID;

/**
 * Generates random valid rule lines for a profile from a seeded {@link Random}: random action,
 * a func that allows it, a random subset of the conditions that func allows, random values in
 * their whole ranges and random spellings (hex case, 0x, +, aliases, template formats), in random
 * token order and with random space/tab separators.
 *
 * <p>It never generates {@code appraise ... digest_type=verity appraise_type=sigv3}: the kernel
 * accepts it but reads it back as {@code appraise_type=sigv3 digest_type=verity}, which it then
 * refuses, so that read-back is not a policy (see the oracle captures). Nor does it generate ids
 * of 2^31 and more: the kernel prints them with {@code %d}, so {@code uid=4294967294} reads back as
 * {@code uid=-2}, which it refuses.
 */
final class RandomRules {
    private final Random rnd;
    private final KernelProfile profile;

    RandomRules(long seed, KernelProfile profile) {
        this.rnd = new Random(seed);
        this.profile = profile;
    }

    String policy() {
        StringBuilder b = new StringBuilder();
        int rules = 1 + rnd.nextInt(5);
        for (int i = 0; i < rules; i++) {
            if (rnd.nextInt(4) == 0) {
                b.append(rnd.nextBoolean() ? "# comment " + i : "").append('\n');
            }
            b.append(rule()).append('\n');
        }
        return b.toString();
    }

    String rule() {
        Func func = pick(List.of(Func.NONE, Func.FILE_CHECK, Func.MMAP_CHECK, Func.BPRM_CHECK, Func.CREDS_CHECK,
                Func.MODULE_CHECK, Func.FIRMWARE_CHECK, Func.KEXEC_KERNEL_CHECK, Func.KEXEC_INITRAMFS_CHECK,
                Func.POLICY_CHECK, Func.KEXEC_CMDLINE, Func.KEY_CHECK, Func.CRITICAL_DATA, Func.SETXATTR_CHECK));
        Action action = switch (func) {
            case KEXEC_CMDLINE, KEY_CHECK, CRITICAL_DATA -> rnd.nextBoolean() ? Action.MEASURE : Action.DONT_MEASURE;
            case SETXATTR_CHECK -> Action.APPRAISE;
            default -> pick(List.of(Action.values()));
        };
        List<String> tokens = new ArrayList<>();
        if (func != Func.NONE) {
            tokens.add("func=" + funcName(func));
        }
        boolean fileHook = func != Func.KEXEC_CMDLINE && func != Func.KEY_CHECK && func != Func.CRITICAL_DATA
                && func != Func.SETXATTR_CHECK;
        boolean inodeConditions = fileHook || func == Func.KEXEC_CMDLINE;
        if (func == Func.SETXATTR_CHECK) {
            tokens.add(algos());
        } else {
            if (fileHook && chance()) {
                tokens.add("mask=" + (rnd.nextBoolean() ? "^" : "") + pick(List.of(Mask.values())).name());
            }
            if (inodeConditions && chance()) {
                tokens.add("fsmagic=" + hex(rnd.nextLong()));
            }
            if (inodeConditions && chance()) {
                tokens.add("fsname=" + word());
            }
            if (inodeConditions && chance()) {
                String u = UUID.randomUUID().toString();
                tokens.add("fsuuid=" + (rnd.nextBoolean() ? u.toUpperCase(Locale.ROOT) : u));
            }
            if (chance()) {
                tokens.add(id(inodeConditions ? pick(List.of("uid", "euid")) : "uid"));
            }
            if (chance()) {
                tokens.add(id(inodeConditions ? pick(List.of("gid", "egid")) : "gid"));
            }
            if (inodeConditions && chance()) {
                tokens.add(id("fowner"));
            }
            if (inodeConditions && chance()) {
                tokens.add(id("fgroup"));
            }
            if (func == Func.KEY_CHECK && chance()) {
                tokens.add("keyrings=" + list());
            }
            if (func == Func.CRITICAL_DATA && chance()) {
                tokens.add("label=" + list());
            }
            if (action == Action.MEASURE && chance()) {
                tokens.add("pcr=" + rnd.nextInt(64));
            }
            if (fileHook && func != Func.CREDS_CHECK && profile.lsmRules().contains(LsmKey.SUBJ_ROLE) && rnd.nextInt(8) == 0) {
                tokens.add("subj_role=" + word());
            }
            if (fileHook && chance()) {
                tokens.add("permit_directio");
            }
            boolean modsigHook = func == Func.MODULE_CHECK || func == Func.KEXEC_KERNEL_CHECK
                    || func == Func.KEXEC_INITRAMFS_CHECK;
            if (action == Action.APPRAISE && fileHook) {
                if (chance()) {
                    tokens.add("appraise_type=imasig");
                }
                if (chance()) {
                    tokens.add(algos());
                }
            } else if (action == Action.MEASURE && fileHook && !modsigHook && rnd.nextInt(5) == 0) {
                tokens.add("digest_type=verity");
            }
        }
        Collections.shuffle(tokens, rnd);
        int at = rnd.nextInt(tokens.size() + 1);
        tokens.add(at, action.keyword());
        if (action == Action.MEASURE && chance()) {
            Template t = pick(List.of(Template.values()));
            tokens.add(at + 1 + rnd.nextInt(tokens.size() - at), "template=" + (rnd.nextBoolean() ? t.templateName() : t.fmt()));
        }
        StringBuilder line = new StringBuilder(separator(true));
        for (String t : tokens) {
            line.append(t).append(separator(false));
        }
        return line.toString();
    }

    private String funcName(Func f) {
        if (f.alias() != null && rnd.nextBoolean()) {
            return f.alias();
        }
        return f.name();
    }

    private String algos() {
        List<HashAlgo> available = new ArrayList<>();
        for (HashAlgo a : profile.hashAlgosAvailable()) {
            if (profile.hashAlgoNames().contains(a)) {
                available.add(a);
            }
        }
        int n = 1 + rnd.nextInt(4);
        List<String> names = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            names.add(pick(available).kernelName());
        }
        return "appraise_algos=" + String.join(",", names);
    }

    private String id(String key) {
        String op = pick(List.of("=", ">", "<"));
        // Below 2^31: larger ids read back negative (%d), which no kernel parses again.
        long value = rnd.nextBoolean() ? rnd.nextInt(70000) : rnd.nextInt(Integer.MAX_VALUE);
        return key + op + (rnd.nextInt(10) == 0 ? "+" : "") + value;
    }

    private String hex(long v) {
        String h = Long.toHexString(v);
        if (rnd.nextBoolean()) {
            h = h.toUpperCase(Locale.ROOT);
        }
        return switch (rnd.nextInt(4)) {
            case 0 -> "0x" + h;
            case 1 -> "0X" + h;
            case 2 -> "+0x" + h;
            default -> h;
        };
    }

    private String list() {
        List<String> items = new ArrayList<>();
        int n = 1 + rnd.nextInt(3);
        for (int i = 0; i < n; i++) {
            items.add(pick(List.of(".ima", ".evm", ".builtin_trusted_keys", "selinux", "kernel_info", word())));
        }
        return String.join("|", items);
    }

    private String word() {
        String alphabet = "abcdefghijklmnopqrstuvwxyz0123456789_.-";
        int n = 1 + rnd.nextInt(12);
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < n; i++) {
            b.append(alphabet.charAt(rnd.nextInt(alphabet.length())));
        }
        return b.toString();
    }

    private String separator(boolean leading) {
        int n = leading ? rnd.nextInt(3) : 1 + rnd.nextInt(3);
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < n; i++) {
            b.append(rnd.nextInt(4) == 0 ? '\t' : ' ');
        }
        return b.toString();
    }

    private boolean chance() {
        return rnd.nextInt(3) == 0;
    }

    private <T> T pick(List<T> options) {
        return options.get(rnd.nextInt(options.size()));
    }

}
