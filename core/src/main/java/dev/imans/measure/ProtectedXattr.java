package dev.imans.measure;

import java.util.Arrays;
import java.util.Objects;

/** One EVM-protected extended attribute present on a file, for the {@code xattr*} fields. */
public record ProtectedXattr(String name, byte[] value) {
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
