package dev.imans.crypto;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Verification keys indexed by the 32-bit key id a signature header names, like the kernel's
 * {@code .ima} keyring searched with {@code "id:%08x"}. A certificate is found both by its
 * SubjectKeyIdentifier tail (the kernel's match) and by evmctl's {@code calc_keyid_v2} id, which
 * differ only for certificates whose SKID was not derived from the key.
 *
 * <p>Two keyrings with the same keys in the same order are equal: appraisal results are cached per
 * keyring, and a namespace whose keyring is rebuilt unchanged keeps its cached verdicts.
 */
public final class Keyring {
    private static final Keyring EMPTY = new Keyring(List.of());

    private final List<VerificationKey> keys;
    private final Map<Integer, List<VerificationKey>> byId = new LinkedHashMap<>();
    private final int hash;

    private Keyring(Collection<VerificationKey> keys) {
        this.keys = List.copyOf(keys);
        this.hash = this.keys.hashCode();
        for (VerificationKey k : this.keys) {
            index(k.keyId().value(), k);
            k.subjectKeyId().ifPresent(skid -> {
                if (skid.value() != k.keyId().value()) {
                    index(skid.value(), k);
                }
            });
        }
    }

    public static Keyring of(Collection<VerificationKey> keys) {
        return new Keyring(keys);
    }

    public static Keyring empty() {
        return EMPTY;
    }

    /** Keys that answer to {@code keyId}, in the order they were added; empty if none. */
    public List<VerificationKey> find(KeyId keyId) {
        return byId.getOrDefault(keyId.value(), List.of());
    }

    public List<VerificationKey> keys() {
        return keys;
    }

    /** This keyring's keys followed by those of {@code more}. */
    public Keyring plus(Keyring more) {
        if (more.isEmpty()) {
            return this;
        }
        if (isEmpty()) {
            return more;
        }
        List<VerificationKey> all = new ArrayList<>(keys);
        all.addAll(more.keys);
        return new Keyring(all);
    }

    public int size() {
        return keys.size();
    }

    @Override
    public boolean equals(Object o) {
        return o == this || o instanceof Keyring k && k.hash == hash && k.keys.equals(keys);
    }

    @Override
    public int hashCode() {
        return hash;
    }

    public boolean isEmpty() {
        return keys.isEmpty();
    }

    private void index(int id, VerificationKey k) {
        byId.computeIfAbsent(id, x -> new ArrayList<>()).add(k);
    }
}
