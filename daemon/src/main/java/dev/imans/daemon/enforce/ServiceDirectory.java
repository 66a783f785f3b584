package dev.imans.daemon.enforce;

import dev.imans.daemon.ns.NamespaceService;
import dev.imans.daemon.ns.Proc;
import dev.imans.ns.NamespaceId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The registered namespaces with a member process each, from the daemon's registry, and the namespaces
 * known to descend from them ({@link NamespaceLineage}), whose filesystems are marked likewise. A member found once
 * is kept while {@code /proc/PID/ns/mnt} still names its namespace, so the usual call costs one readlink
 * per namespace instead of a walk over {@code /proc}.
 */
public final class ServiceDirectory implements NamespaceDirectory {
    private final NamespaceService service;
    private final Proc proc;
    private final NamespaceLineage lineage;
    private final Map<NamespaceId, Long> members = new ConcurrentHashMap<>();

    public ServiceDirectory(NamespaceService service, Proc proc) {
        this(service, proc, null);
    }

    public ServiceDirectory(NamespaceService service, Proc proc, NamespaceLineage lineage) {
        this.service = service;
        this.proc = proc;
        this.lineage = lineage;
    }

    @Override
    public List<Member> members() {
        List<Member> out = new ArrayList<>();
        List<NamespaceId> ids = new ArrayList<>(service.ids());
        Map<Long, Integer> descendants = lineage == null ? Map.of() : lineage.descendants();
        descendants.forEach((ns, pid) -> {
            NamespaceId id = new NamespaceId(ns);
            if (!ids.contains(id)) {
                ids.add(id);
                members.putIfAbsent(id, pid.longValue());
            }
        });
        members.keySet().retainAll(ids);
        for (NamespaceId id : ids) {
            Long pid = members.get(id);
            if (pid == null || !proc.mountNamespace(pid).equals(Optional.of(id))) {
                pid = proc.anyMember(id).orElse(null);
                if (pid == null) {
                    members.remove(id);
                    continue;
                }
                members.put(id, pid);
            }
            out.add(new Member(id.inode(), pid.intValue()));
        }
        return out;
    }
}
