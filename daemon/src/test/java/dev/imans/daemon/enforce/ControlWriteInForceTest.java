package dev.imans.daemon.enforce;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imans.ns.AppraiseSetting;
import java.nio.file.Files;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A control-file write is in force when the writer's write(2) or close(2) returns: the very next
 * open or exec is judged under it. Each trial writes a rule that only its own fresh file matches,
 * after that file was opened once (allowed, and ignore-marked), so the rule and the ignore-mark
 * flush are both needed to deny the next open. Shell loops keep a thousand trials quick.
 */
@Timeout(value = 600, unit = TimeUnit.SECONDS)
class ControlWriteInForceTest {
    private static final int TRIALS = 1000;

    private DaemonFixture daemon;

    @AfterEach
    void tearDown() throws Exception {
        if (daemon != null) {
            daemon.close();
        }
    }

    /** Runs a trial loop; its output must be exactly {@code denied N}, or it names each trial that went wrong. */
    private static void assertAllDenied(String what, Run.Result r, long startNanos, int trials) {
        long ms = (System.nanoTime() - startNanos) / 1_000_000;
        System.out.println("ControlWriteInForceTest: " + what + ": " + trials + " trials in " + ms + " ms");
        assertThat(r.err()).as(what).isEmpty();
        assertThat(r.out()).as(what).isEqualTo("denied " + trials + "\n");
        assertThat(r.exit()).as(what).isZero();
    }

    @Test
    void theFirstOpenAfterEachPolicyWriteIsJudgedUnderIt() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Namespace ns = daemon.registered();
        openTrials(ns, daemon.control + "/" + ns.nsid + "/policy", 300000, TRIALS);
        assertThat(Files.readString(daemon.control.resolve(ns.nsid + "/policy")).lines().count()).isEqualTo(TRIALS);
    }

    @Test
    void theFirstOpenAfterEachHostPolicyWriteIsJudgedUnderIt() throws Exception {
        // The host policy binds the registered namespace's openers too.
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Namespace ns = daemon.registered();
        openTrials(ns, daemon.control + "/policy", 600000, 300);
    }

    /** Each trial: a fresh file of a fresh owner, opened, then a rule for that owner, then the open that must fail. */
    private static void openTrials(Namespace ns, String policy, int firstUid, int trials) throws Exception {
        String script = """
                P=%s
                i=0; denied=0
                while [ $i -lt %d ]; do
                  u=$((%d + i)); f=/tmp/o$i
                  { echo x > $f && chown $u $f; } || echo "SETUP $i"
                  cat $f > /dev/null || echo "PRE $i"
                  printf 'appraise fsmagic=0x01021994 fowner=%%d\n' $u > $P || echo "WRITE $i"
                  if out=$(cat $f 2>&1); then echo "SLIP $i"; else
                    case "$out" in *"Operation not permitted"*) denied=$((denied + 1));; *) echo "ODD $i: $out";; esac
                  fi
                  i=$((i + 1))
                done
                echo "denied $denied"
                """.formatted(policy, trials, firstUid);
        long start = System.nanoTime();
        Run.Result r = ns.sh(script, 500);
        assertAllDenied("open after policy write to " + policy, r, start, trials);
    }

    @Test
    void theFirstExecAfterEachPolicyWriteIsJudgedUnderIt() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        Namespace ns = daemon.registered();
        String script = """
                P=%s/%d/policy
                # busybox runs the applet named by argv[0], or by argv[1] when it is called busybox.
                cp /bin/busybox /tmp/bb || exit 1
                i=0; denied=0
                while [ $i -lt %d ]; do
                  u=$((400000 + i)); b=/tmp/x$i/busybox
                  { mkdir /tmp/x$i && cp /tmp/bb $b && chown $u $b; } || echo "SETUP $i"
                  $b true || echo "PRE $i"
                  printf 'appraise func=BPRM_CHECK fsmagic=0x01021994 fowner=%%d\\n' $u > $P || echo "WRITE $i"
                  if out=$($b true 2>&1); then echo "SLIP $i"; else
                    case "$out" in *"Operation not permitted"*) denied=$((denied + 1));; *) echo "ODD $i: $out";; esac
                  fi
                  rm -rf /tmp/x$i
                  i=$((i + 1))
                done
                echo "denied $denied"
                """.formatted(daemon.control, ns.nsid, TRIALS);
        long start = System.nanoTime();
        Run.Result r = ns.sh(script, 500);
        assertAllDenied("exec after policy write", r, start, TRIALS);
    }

    @Test
    void theFirstOpensAfterARegistrationAndItsFirstPolicyAreJudgedUnderThem() throws Exception {
        daemon = new DaemonFixture(AppraiseSetting.ENFORCE);
        // The host policy binds every registered namespace: a registration alone must have marked the
        // namespace's tmpfs when its write returns.
        Files.writeString(daemon.control.resolve("policy"), "appraise fsmagic=0x01021994 fowner=500001\n");
        int trials = 300;
        String inside = """
                mount -t tmpfs imans-reg /tmp || exit 1
                echo x > /tmp/a && chown 500001 /tmp/a && echo x > /tmp/b && chown 500002 /tmp/b || echo "SETUP $i"
                cat /tmp/a /tmp/b > /dev/null || echo "PRE $i"
                n=$(readlink /proc/self/ns/mnt); n=${n#mnt:[}; n=${n%%]}
                echo $n > %1$s/namespaces || echo "REGISTER $i"
                if out=$(cat /tmp/a 2>&1); then echo "SLIP-REGISTERED $i"; else
                  case "$out" in *"Operation not permitted"*) ;; *) echo "ODD $i: $out";; esac
                fi
                printf 'appraise fsmagic=0x01021994 fowner=500002\\n' > %1$s/$n/policy || echo "WRITE $i"
                if out=$(cat /tmp/b 2>&1); then echo "SLIP-POLICY $i"; else
                  case "$out" in *"Operation not permitted"*) echo DENIED;; *) echo "ODD $i: $out";; esac
                fi
                """.formatted(daemon.control);
        String script = """
                i=0; denied=0
                while [ $i -lt %d ]; do
                  out=$(i=$i unshare -m --propagation private sh -c '%s')
                  if [ "$out" = DENIED ]; then denied=$((denied + 1)); else echo "$i: $out"; fi
                  i=$((i + 1))
                done
                echo "denied $denied"
                """.formatted(trials, inside.replace("'", "'\\''"));
        long start = System.nanoTime();
        Run.Result r = Run.run(List.of("sh", "-c", script), 500);
        assertAllDenied("open after registration and after its first policy", r, start, trials);
    }
}
