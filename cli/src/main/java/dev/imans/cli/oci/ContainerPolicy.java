package dev.imans.cli.oci;

/**
 * The policy text chosen for a container and where it came from.
 *
 * @param origin how messages name the source: {@code annotation dev.imans.policy} or a file path
 * @param bytes the rules, as they will be written to the namespace's policy file
 */
public record ContainerPolicy(String origin, byte[] bytes) {
    public ContainerPolicy {
        bytes = bytes.clone();
    }

    @Override
    public byte[] bytes() {
        return bytes.clone();
    }
}
