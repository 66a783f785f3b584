package dev.imans.daemon.control;

import dev.imans.daemon.ns.Caller;
import dev.imans.daemon.ns.Proc;
import java.io.IOException;

/**
 * Whether a caller may change IMA state: it must hold CAP_SYS_ADMIN in the initial user namespace,
 * like {@code capable(CAP_SYS_ADMIN)} in the kernel.
 *
 * <p>"Initial" is taken to be the daemon's own user namespace (the host's, where the daemon runs);
 * {@code /proc/1/ns/user} is not always readable. A root process in a child user namespace
 * ({@code unshare -U -r}) has a full CapEff there, which is why the namespace is compared too.
 */
final class Privilege {
    private final Proc proc;
    private final String initialUserNs;

    Privilege(Proc proc) throws IOException {
        this.proc = proc;
        this.initialUserNs = proc.ownUserNamespace();
    }

    boolean isAdmin(Caller caller) {
        if (caller.pid() <= 0) {
            return false;
        }
        boolean inInitialNs = proc.userNamespace(caller.pid()).filter(initialUserNs::equals).isPresent();
        return inInitialNs && proc.effectiveCapabilities(caller.pid())
                .map(caps -> (caps & (1L << Proc.CAP_SYS_ADMIN)) != 0).orElse(false);
    }
}
