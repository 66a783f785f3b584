package dev.imans.daemon.enforce;

import dev.imans.crypto.HashAlgo;
import dev.imans.crypto.Keyring;
import dev.imans.daemon.fanotify.EngineConfig;
import java.util.Objects;
import java.util.Set;

/**
 * Settings of enforcement.
 *
 * @param hashAlgo the kernel's {@code ima_hash=}: for values that name no algorithm, what fix mode writes,
 *     and the file digests of measurements
 * @param keyring public keys that verify {@code security.ima} signatures
 * @param rehashOnClose scopes whose appraised writers get their file re-hashed on close, as mainline IMA
 *     does: {@code host}, namespace ids, or {@code all}; empty = none (the seed's behaviour: a changed
 *     file stays unopenable until labelled again)
 * @param fsTypes filesystem types to mark (as mountinfo names them, e.g. {@code tmpfs}, {@code ext4});
 *     empty = every type but the pseudo filesystems
 * @param namespaceFilesystemsOnly mark only what registered namespaces see: filesystems mounted inside
 *     them, and host filesystems they see (a container's root) that a policy judging them may cover
 *     ({@link SharedFilesystems}); filesystems only the host sees are left alone
 * @param engine the fanotify engine's settings
 * @param rehearse whether the start's warm-up ends with a {@link Rehearsal}: real opens of files of its own,
 *     judged by a private instance of the engines, in a mount namespace of its own
 */
public record EnforcementConfig(HashAlgo hashAlgo, Keyring keyring, Set<String> rehashOnClose, Set<String> fsTypes,
        boolean namespaceFilesystemsOnly, EngineConfig engine, boolean rehearse) {
    public EnforcementConfig {
        Objects.requireNonNull(hashAlgo, "hashAlgo");
        Objects.requireNonNull(keyring, "keyring");
        rehashOnClose = Set.copyOf(rehashOnClose);
        fsTypes = Set.copyOf(fsTypes);
        Objects.requireNonNull(engine, "engine");
        for (String s : rehashOnClose) {
            if (!s.equals("all") && !s.equals("host") && !s.chars().allMatch(Character::isDigit)) {
                throw new IllegalArgumentException("--rehash-on-close takes host, all or namespace ids, not '" + s + "'");
            }
        }
    }

    /**
     * sha256, no keys, no re-hash on close, every filesystem, the engine's defaults, no rehearsal (the
     * daemon command turns it on; an embedded daemon leaves its warm-up to whoever embeds it).
     */
    public static EnforcementConfig defaults() {
        return new EnforcementConfig(HashAlgo.SHA256, Keyring.empty(), Set.of(), Set.of(), false,
                EngineConfig.defaults(), false);
    }

    public EnforcementConfig withRehearsal(boolean on) {
        return new EnforcementConfig(hashAlgo, keyring, rehashOnClose, fsTypes, namespaceFilesystemsOnly, engine, on);
    }

    public EnforcementConfig withRehashOnClose(Set<String> scopes) {
        return new EnforcementConfig(hashAlgo, keyring, scopes, fsTypes, namespaceFilesystemsOnly, engine, rehearse);
    }

    public EnforcementConfig withFilesystems(Set<String> types, boolean namespacesOnly) {
        return new EnforcementConfig(hashAlgo, keyring, rehashOnClose, types, namespacesOnly, engine, rehearse);
    }

    public EnforcementConfig withHashAlgo(HashAlgo a) {
        return new EnforcementConfig(a, keyring, rehashOnClose, fsTypes, namespaceFilesystemsOnly, engine, rehearse);
    }

    public EnforcementConfig withKeyring(Keyring k) {
        return new EnforcementConfig(hashAlgo, k, rehashOnClose, fsTypes, namespaceFilesystemsOnly, engine, rehearse);
    }

    /** Whether the host ({@code ns} empty) or namespace {@code ns} re-hashes on close. */
    public boolean rehashes(String scope) {
        return rehashOnClose.contains("all") || rehashOnClose.contains(scope);
    }
}
