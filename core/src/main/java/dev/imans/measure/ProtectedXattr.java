package dev.imans.measure;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/** One EVM-protected extended attribute present on a file, for the {@code xattr*} fields. */
public record ProtectedXattr(String name, byte[] value) {
    /**
     * The names evm_read_protected_xattrs (security/integrity/evm/evm_main.c, Linux 6.1) walks, in its
     * order: every entry of {@code evm_config_default_xattrnames[]}, those printed "(disabled)" at boot
     * included (the walk does not test {@code enabled}). Names added at run time through
     * {@code /sys/kernel/security/integrity/evm/evm_xattrs} (CONFIG_EVM_ADD_XATTRS) would follow.
     */
    public static final List<String> EVM_NAMES = List.of(
            "security.selinux",
            "security.SMACK64",
            "security.SMACK64EXEC",
            "security.SMACK64TRANSMUTE",
            "security.SMACK64MMAP",
            "security.apparmor",
            "security.ima",
            "security.capability");

    public ProtectedXattr {
        Objects.requireNonNull(name, "name");
        value = value.clone();
    }

    @Override
    public byte[] value() {
        return value.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ProtectedXattr x && x.name.equals(name) && Arrays.equals(x.value, value);
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(value);
    }
}
