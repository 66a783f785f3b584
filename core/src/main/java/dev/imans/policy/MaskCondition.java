package dev.imans.policy;

/**
 * A {@code mask=} condition. Without {@code ^} ({@code IMA_MASK}) the requested access mask must
 * equal the bit; with {@code ^} ({@code IMA_INMASK}) it must contain it.
 */
public record MaskCondition(Mask mask, boolean contains) {
    public MaskCondition {
        if (mask == null) {
            throw new IllegalArgumentException("mask is required");
        }
    }

    public boolean matches(int requested) {
        return contains ? (requested & mask.bit()) != 0 : requested == mask.bit();
    }

    /** The value as written after {@code mask=}. */
    public String text() {
        return (contains ? "^" : "") + mask.name();
    }
}
