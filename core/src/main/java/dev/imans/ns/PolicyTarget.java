package dev.imans.ns;

/** Whose policy a control file holds: the host's ({@code policy}) or a namespace's ({@code <nsid>/policy}). */
public sealed interface PolicyTarget {
    /** The host policy: the kernel's global one, evaluated for every namespace. */
    record Host() implements PolicyTarget {
        @Override
        public String toString() {
            return "host";
        }
    }

    /** The policy of one registered mount namespace. */
    record Namespace(NamespaceId id) implements PolicyTarget {
        @Override
        public String toString() {
            return "namespace " + id;
        }
    }

    PolicyTarget HOST = new Host();
}
