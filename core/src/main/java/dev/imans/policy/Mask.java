package dev.imans.policy;

import java.util.Optional;

/** The {@code MAY_*} access bits of include/linux/fs.h that {@code mask=} names. */
public enum Mask {
    MAY_EXEC(1),
    MAY_WRITE(2),
    MAY_READ(4),
    MAY_APPEND(8);

    private final int bit;

    Mask(int bit) {
        this.bit = bit;
    }

    public int bit() {
        return bit;
    }

    public static Optional<Mask> byName(String name) {
        for (Mask m : values()) {
            if (m.name().equals(name)) {
                return Optional.of(m);
            }
        }
        return Optional.empty();
    }
}
