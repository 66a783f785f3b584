package dev.imans.xattr;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The first byte of {@code security.ima} / {@code security.evm}: {@code enum evm_ima_xattr_type}
 * (security/integrity/integrity.h; ima-evm-utils src/imaevm.h uses the same numbers).
 */
public enum XattrType {
    IMA_XATTR_DIGEST(0x01),
    EVM_XATTR_HMAC(0x02),
    EVM_IMA_XATTR_DIGSIG(0x03),
    IMA_XATTR_DIGEST_NG(0x04),
    EVM_XATTR_PORTABLE_DIGSIG(0x05),
    IMA_VERITY_DIGSIG(0x06);

    /** {@code IMA_XATTR_LAST}: setxattr(security.ima) rejects type bytes at or above it with EINVAL. */
    public static final int IMA_XATTR_LAST = 7;

    /** By type byte, made once: every label decode looks its type up, and {@code values()} copies. */
    private static final List<Optional<XattrType>> BY_ID = byIds();

    private final int id;

    XattrType(int id) {
        this.id = id;
    }

    public int id() {
        return id;
    }

    public static Optional<XattrType> byId(int id) {
        return id >= 0 && id < BY_ID.size() ? BY_ID.get(id) : Optional.empty();
    }

    private static List<Optional<XattrType>> byIds() {
        List<Optional<XattrType>> ids = new ArrayList<>();
        for (XattrType t : values()) {
            while (ids.size() <= t.id) {
                ids.add(Optional.empty());
            }
            ids.set(t.id, Optional.of(t));
        }
        return List.copyOf(ids);
    }

    /** {@code 0x04 (IMA_XATTR_DIGEST_NG)}: how explanations name a type. */
    public String describe() {
        return String.format("0x%02x (%s)", id, name());
    }
}
