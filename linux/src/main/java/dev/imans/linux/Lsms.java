package dev.imans.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The LSMs active on this kernel, in their order: {@code lsm_list_modules(2)} (Linux 6.8; no mount
 * needed), else {@code /sys/kernel/security/lsm} where securityfs is mounted.
 */
public final class Lsms {
    /** {@code __NR_lsm_list_modules}: 461 in the generic table, on x86_64 and aarch64 alike. */
    static final long NR_LSM_LIST_MODULES = 461;
    private static final int MAX_IDS = 64;
    private static final MethodHandle SYSCALL = Native.variadicWithErrno("syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, ADDRESS, ADDRESS, JAVA_INT), 1);

    private Lsms() {}

    /** The active LSMs' names (as in {@code /sys/kernel/security/lsm}); empty when neither source answers. */
    public static Optional<List<String>> active() {
        Optional<List<String>> listed = listModules();
        if (listed.isPresent()) {
            return listed;
        }
        try {
            String text = Files.readString(Path.of("/sys/kernel/security/lsm"), StandardCharsets.US_ASCII).strip();
            return Optional.of(text.isEmpty() ? List.of() : List.of(text.split(",")));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    static Optional<List<String>> listModules() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment err = Native.errnoSegment(arena);
            MemorySegment ids = arena.allocate(JAVA_LONG, MAX_IDS);
            MemorySegment size = arena.allocate(JAVA_INT);
            size.set(JAVA_INT, 0, MAX_IDS * 8);
            long n = (long) SYSCALL.invokeExact(err, NR_LSM_LIST_MODULES, ids, size, 0);
            if (n < 0) {
                return Optional.empty();
            }
            List<String> names = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                names.add(name(ids.getAtIndex(JAVA_LONG, i)));
            }
            return Optional.of(List.copyOf(names));
        } catch (Throwable t) {
            throw Native.linkageBug(t);
        }
    }

    /** The name of an {@code LSM_ID_*} (include/uapi/linux/lsm.h). */
    static String name(long id) {
        return switch ((int) id) {
            case 100 -> "capability";
            case 101 -> "selinux";
            case 102 -> "smack";
            case 103 -> "tomoyo";
            case 104 -> "apparmor";
            case 105 -> "yama";
            case 106 -> "loadpin";
            case 107 -> "safesetid";
            case 108 -> "lockdown";
            case 109 -> "bpf";
            case 110 -> "landlock";
            case 111 -> "ima";
            case 112 -> "evm";
            case 113 -> "ipe";
            default -> "lsm" + id;
        };
    }
}
