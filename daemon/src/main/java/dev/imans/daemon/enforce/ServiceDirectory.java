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
 * The registered namespaces with a member process each, from the daemon's registry. A member found once
 * is kept while {@code /proc/PID/ns/mnt} still names its namespace, so the usual call costs one readlink
 * per namespace instead of a walk over {@code /proc}.
 */
public final class ServiceDirectory implements NamespaceDirectory {
    private final NamespaceService service;
    private final Proc proc;
    private final Map<NamespaceId, Long> members = new ConcurrentHashMap<>();

    public ServiceDirectory(NamespaceService service, Proc proc) {
        this.service = service;
        this.proc = proc;
    }

    @Override
    public List<Member> members() {
        List<Member> out = new ArrayList<>();
        List<NamespaceId> ids = service.ids();
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
