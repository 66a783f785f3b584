package dev.imans.daemon.enforce;

import dev.imans.policy.Action;
import dev.imans.policy.Policy;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * An immutable snapshot of every policy in force: the host's and each registered namespace's. The
 * decider reads one snapshot per event; a policy or registration change installs a new one (and
 * flushes the ignore marks that {@linkplain #stricterOn may no longer hold}).
 */
public final class Policies {
    /** Kinds of file whose coverage a snapshot keeps ({@link #coverage}); past this it starts over. */
    private static final int MAX_COVERAGE = 4096;

    private final Scope host;
    private final Map<Long, Scope> namespaces;
    private final List<Scope> all;
    private final java.util.concurrent.ConcurrentHashMap<dev.imans.policy.FileFacts, Coverage.OfFile> coverage =
            new java.util.concurrent.ConcurrentHashMap<>();

    public Policies(Scope host, Map<Long, Scope> namespaces) {
        this.host = host;
        this.namespaces = Map.copyOf(namespaces);
        List<Scope> every = new ArrayList<>(this.namespaces.size() + 1);
        every.add(host);
        every.addAll(this.namespaces.values());
        this.all = List.copyOf(every);
    }

    public Scope host() {
        return host;
    }

    public Map<Long, Scope> namespaces() {
        return namespaces;
    }

    /**
     * What the rules in force may ask of a file of this kind ({@link Coverage}), worked out once per kind
     * of file (filesystem, owner, group, label) and snapshot: every cold event asks, and a walk of every
     * rule of every scope for each question cost a 1,000-rule policy thousands of rule tests an event.
     */
    Coverage.OfFile coverage(dev.imans.policy.FileFacts f, dev.imans.crypto.HashAlgo defaultAlgo) {
        Coverage.OfFile c = coverage.get(f);
        if (c != null && c.defaultAlgo() == defaultAlgo) {
            return c;
        }
        c = Coverage.of(this, f, defaultAlgo);
        if (coverage.size() >= MAX_COVERAGE) {
            coverage.clear();
        }
        coverage.put(f, c);
        return c;
    }

    @Override
    public boolean equals(Object o) {
        return o == this || o instanceof Policies p && host.equals(p.host) && namespaces.equals(p.namespaces);
    }

    @Override
    public int hashCode() {
        return 31 * host.hashCode() + namespaces.hashCode();
    }

    @Override
    public String toString() {
        return "Policies[host=" + host + ", namespaces=" + namespaces + "]";
    }

    /** The scope of a registered namespace, or null for an unregistered one (the host policy alone applies). */
    public Scope namespace(long nsInode) {
        return namespaces.get(nsInode);
    }

    /** The scopes that judge an open from {@code nsInode}: the host's, then the namespace's if registered. */
    public List<Scope> judging(long nsInode) {
        Scope ns = namespaces.get(nsInode);
        return ns == null ? List.of(host) : List.of(host, ns);
    }

    /**
     * The scopes that judge an open from {@code nsInode} when it descends from the registered namespaces
     * {@code roots} ({@link NamespaceLineage}): the host's, the namespace's own if registered, then each
     * ancestor's (as registered now: a later policy write to an ancestor applies to its descendants).
     */
    public List<Scope> judging(long nsInode, long[] roots) {
        Scope own = namespaces.get(nsInode);
        if (roots.length == 0) {
            return own == null ? List.of(host) : List.of(host, own);
        }
        List<Scope> out = new ArrayList<>(2 + roots.length);
        out.add(host);
        if (own != null) {
            out.add(own);
        }
        for (long r : roots) {
            Scope s = namespaces.get(r);
            if (s != null && s != own) {
                out.add(s);
            }
        }
        return out;
    }

    /** Every scope: the host first. */
    public List<Scope> all() {
        return all;
    }

    /**
     * Whether any scope appraises, measures or audits anything at all (else every open is allowed at
     * once). A scope with appraisal off still measures and audits.
     */
    public boolean judgesAnything() {
        if (judges(host)) {
            return true;
        }
        for (Scope s : namespaces.values()) {
            if (judges(s)) {
                return true;
            }
        }
        return false;
    }

    private static boolean judges(Scope s) {
        Policy p = s.policy();
        return p.has(Action.MEASURE) || p.has(Action.AUDIT)
                || s.mode() != dev.imans.appraise.AppraiseMode.OFF && p.has(Action.APPRAISE);
    }

    /** Which files a change of policies may have made stricter: overlays' files, the others', or both. */
    public record Reach(boolean filesystems, boolean overlays) {
        public static final Reach NONE = new Reach(false, false);
        public static final Reach OVERLAYS = new Reach(false, true);
        public static final Reach ALL = new Reach(true, true);
    }

    /**
     * Which ignore marks placed under {@code before} may not hold under these policies: those of files a
     * positive rule ({@code appraise}, {@code measure}, {@code audit}) of a new or changed scope may cover.
     * A mark is placed only when its file satisfies every scope in force whatever the opener, so a scope
     * unchanged (same rules, mode, keys), dropped (a namespace that ended) or without rules (a
     * registration before its policy) leaves it right: {@link Reach#NONE}. A container's policy of overlay
     * rules ({@code fsmagic=0x794c7630}) reaches only overlays' files, so the marks of the host's own
     * filesystems stand.
     */
    public Reach stricterOn(Policies before) {
        Reach r = reach(host, before.host);
        for (Map.Entry<Long, Scope> e : namespaces.entrySet()) {
            if (r.equals(Reach.ALL)) {
                break;
            }
            Reach more = reach(e.getValue(), before.namespaces.get(e.getKey()));
            r = new Reach(r.filesystems() || more.filesystems(), r.overlays() || more.overlays());
        }
        return r;
    }

    private static Reach reach(Scope now, Scope before) {
        if (now.policy().isEmpty() || now.equals(before)) {
            return Reach.NONE;
        }
        boolean filesystems = false;
        boolean overlays = false;
        for (dev.imans.policy.Rule r : now.policy().rules()) {
            if (r.action() != Action.APPRAISE && r.action() != Action.MEASURE && r.action() != Action.AUDIT) {
                continue;
            }
            boolean overlayOnly = r.fsMagic() != null && r.fsMagic() == OVERLAY_MAGIC
                    || r.fsName() != null && r.fsName().equals("overlay");
            boolean notOverlay = r.fsMagic() != null && r.fsMagic() != OVERLAY_MAGIC
                    || r.fsName() != null && !r.fsName().equals("overlay");
            filesystems |= !overlayOnly;
            overlays |= !notOverlay;
            if (filesystems && overlays) {
                break;
            }
        }
        return new Reach(filesystems, overlays);
    }

    /** OVERLAYFS_SUPER_MAGIC, include/uapi/linux/magic.h. */
    private static final long OVERLAY_MAGIC = 0x794c7630L;
}
