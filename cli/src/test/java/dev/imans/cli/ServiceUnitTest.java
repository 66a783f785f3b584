package dev.imans.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * packaging/imans.service's hardening does not break the daemon: a real daemon runs with exactly the
 * unit's capability bounding set and no_new_privs (setpriv, as systemd would apply them), enforces on a
 * real namespace, serves its control filesystem and stops cleanly. And the unit names no option that
 * would give the service a mount namespace of its own (the control filesystem would not reach the host).
 */
class ServiceUnitTest {
    /** systemd.exec(5) options that set up a private mount namespace for the service. */
    private static final List<String> MOUNT_NAMESPACING = List.of("ProtectSystem", "ProtectHome", "PrivateTmp",
            "PrivateDevices", "ProtectKernelTunables", "ProtectKernelModules", "ProtectKernelLogs",
            "ProtectControlGroups", "ProtectProc", "ProcSubset", "PrivateMounts", "ReadWritePaths", "ReadOnlyPaths",
            "InaccessiblePaths", "ExecPaths", "NoExecPaths", "BindPaths", "BindReadOnlyPaths", "TemporaryFileSystem",
            "MountAPIVFS", "RootDirectory", "RootImage", "PrivateUsers", "DynamicUser", "ProtectHostname",
            "MountFlags", "PrivateNetwork", "NetworkNamespacePath");

    static Path unit() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path candidate = p.resolve("packaging/imans.service");
            if (Files.exists(candidate)) {
                return candidate;
            }
        }
        throw new AssertionError("packaging/imans.service not found above " + Path.of("").toAbsolutePath());
    }

    private static Map<String, String> service() throws IOException {
        Map<String, String> out = new java.util.LinkedHashMap<>();
        String section = "";
        for (String line : Files.readAllLines(unit())) {
            line = line.strip();
            if (line.startsWith("[")) {
                section = line;
            } else if (section.equals("[Service]") && !line.isEmpty() && !line.startsWith("#")) {
                String[] kv = line.split("=", 2);
                assertThat(out.put(kv[0], kv[1])).as("set once: " + kv[0]).isNull();
            }
        }
        return out;
    }

    /** capability.h numbers of the capabilities the unit may name. */
    private static final Map<String, Integer> CAP_NUMBERS = Map.of("+chown", 0, "+dac_override", 1,
            "+dac_read_search", 2, "+fowner", 3, "+net_bind_service", 10, "+sys_ptrace", 19, "+sys_admin", 21,
            "+sys_resource", 24, "+lease", 28);

    private static long mask(List<String> caps) {
        long m = 0;
        for (String c : caps) {
            Integer n = CAP_NUMBERS.get(c);
            assertThat(n).as("number of " + c).isNotNull();
            m |= 1L << n;
        }
        return m;
    }

    private static long bounding(String status) {
        return Long.parseUnsignedLong(status.replaceFirst("(?s).*\\nCapBnd:\\s+(\\p{XDigit}+).*", "$1"), 16);
    }

    @Test
    void theUnitIsANotifyServiceWithAWatchdogAndNoMountNamespace() throws IOException {
        Map<String, String> s = service();
        assertThat(s).containsEntry("Type", "notify").containsEntry("ExecStart", "/usr/bin/imans daemon")
                .containsKey("WatchdogSec").containsEntry("NoNewPrivileges", "yes")
                // Mount namespaces only: the start's rehearsal makes one, and nothing makes any other kind.
                .containsEntry("RestrictNamespaces", "mnt");
        assertThat(s.keySet()).doesNotContainAnyElementsOf(MOUNT_NAMESPACING);
    }

    @Test
    void theDaemonEnforcesWithOnlyTheUnitsCapabilities() throws Exception {
        List<String> caps = new ArrayList<>();
        for (String c : service().get("CapabilityBoundingSet").split("\\s+")) {
            caps.add("+" + c.toLowerCase(Locale.ROOT).replaceFirst("^cap_", ""));
        }
        List<String> setpriv = List.of("setpriv", "--no-new-privs", "--bounding-set", "-all," + String.join(",", caps),
                "--inh-caps", "-all");
        try (DaemonProcess d = new DaemonProcess(setpriv, Map.of(), true, DaemonProcess.REHEARSING);
                MountNamespace ns = new MountNamespace()) {
            String status = Files.readString(Path.of("/proc", Long.toString(d.pid()), "status"));
            assertThat(status).containsPattern("(?m)^NoNewPrivs:\\s+1$");
            // Exactly the unit's set, less what this machine's own bounding set lacks.
            assertThat(bounding(status)).isEqualTo(mask(caps) & bounding(Files.readString(Path.of("/proc/self/status"))));

            assertThat(ns.sh("echo secret > /tmp/f && echo hello > /tmp/ok && setfattr -n security.ima -v 0x0404"
                    + "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03 /tmp/ok").rc()).isZero();
            Files.writeString(d.control.resolve("namespaces"), ns.nsid + "\n");
            Files.writeString(d.control.resolve(ns.nsid + "/policy"), "appraise fsmagic=0x01021994\n");
            Tools.Result denied = ns.sh("cat /tmp/f");
            assertThat(denied.err()).contains("Operation not permitted");
            assertThat(ns.sh("cat /tmp/ok").out()).isEqualTo("hello\n");
            assertThat(Files.readString(d.control.resolve(".imans/health"))).isEqualTo("ok\n");
            assertThat(Files.readString(d.control.resolve(".imans/metrics")))
                    .contains("imans_permission_denials_total{cause=\"missing-hash\"} 1\n")
                    // The exec guard's BPF program loads with CAP_SYS_ADMIN alone (bpf_capable, perfmon_capable)
                    // wherever this kernel takes it at all.
                    .contains("imans_memfd_execs_judged " + (guardable() ? 1 : 0) + "\n");
            // The start's rehearsal (a mount namespace of its own) works with these capabilities too, and
            // nothing it judged is in the figures above.
            DaemonProcess.await("the warm-up", () -> d.log().contains("warm-up done"));
            assertThat(d.log()).contains("events rehearsed (").doesNotContain("without its rehearsal");
            assertThat(d.log()).doesNotContain("error:")
                    .doesNotContain(guardable() ? "warn: cannot" : "warn: cannot mark");

            d.signal("TERM");
            assertThat(d.process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            assertThat(d.controlMounted()).as(d.log()).isFalse();
        }
    }

    /** Whether this kernel takes the exec guard from a process with every capability (this test's). */
    private static boolean guardable() {
        try {
            dev.imans.linux.InternalExecGuard.attach(dev.imans.linux.Namespaces.ownMountNamespaceInode(), 0).close();
            return true;
        } catch (java.io.IOException e) {
            return false;
        }
    }
}
