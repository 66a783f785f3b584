package dev.imans.daemon.control;

import dev.imans.ns.NamespaceId;
import java.util.Optional;

/**
 * A path inside the control filesystem, resolved to what it names: a directory (the root,
 * {@code .imans}, or a namespace's) or a file, with the namespace it belongs to. Whether a
 * namespace directory exists is decided by the caller (the registry), not here.
 */
sealed interface ControlPath {
    /** The root, {@code .imans/}, or {@code <nsid>/} when {@code ns} is present. */
    record Dir(boolean imans, Optional<NamespaceId> ns) implements ControlPath {}

    /** A file; {@code ns} is present for files in a namespace directory. */
    record File(ControlFile file, Optional<NamespaceId> ns) implements ControlPath {}

    Dir ROOT = new Dir(false, Optional.empty());

    /** Resolves a FUSE path ({@code /}, {@code /policy}, {@code /4026532208/policy} ...). */
    static Optional<ControlPath> parse(String path) {
        if (path.equals("/")) {
            return Optional.of(ROOT);
        }
        if (!path.startsWith("/")) {
            return Optional.empty();
        }
        String[] parts = path.substring(1).split("/", -1);
        if (parts.length > 2) {
            return Optional.empty();
        }
        String first = parts[0];
        if (parts.length == 1) {
            if (first.equals(ControlFile.IMANS_DIR)) {
                return Optional.of(new Dir(true, Optional.empty()));
            }
            Optional<NamespaceId> ns = nsid(first);
            if (ns.isPresent()) {
                return Optional.of(new Dir(false, ns));
            }
            return file(first, ControlFile.Scope.TOP, Optional.empty());
        }
        if (first.equals(ControlFile.IMANS_DIR)) {
            return file(parts[1], ControlFile.Scope.IMANS, Optional.empty());
        }
        Optional<NamespaceId> ns = nsid(first);
        return ns.isEmpty() ? Optional.empty() : file(parts[1], null, ns);
    }

    private static Optional<ControlPath> file(String name, ControlFile.Scope where, Optional<NamespaceId> ns) {
        for (ControlFile f : ControlFile.values()) {
            if (!f.fileName().equals(name)) {
                continue;
            }
            boolean fits = switch (f.scope()) {
                case TOP -> where == ControlFile.Scope.TOP;
                case BOTH -> where == ControlFile.Scope.TOP || ns.isPresent();
                case IMANS -> where == ControlFile.Scope.IMANS;
                case NAMESPACE -> ns.isPresent();
            };
            if (fits) {
                return Optional.of(new File(f, ns));
            }
        }
        return Optional.empty();
    }

    /** A directory name that is a namespace id in its canonical decimal form. */
    private static Optional<NamespaceId> nsid(String name) {
        if (name.isEmpty() || name.length() > 10 || name.charAt(0) == '0'
                || !name.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return Optional.empty();
        }
        try {
            return Optional.of(NamespaceId.parse(name));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }
}
