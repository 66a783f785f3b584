package dev.imans.daemon.enforce;

import dev.imans.appraise.AppraisalResult;
import dev.imans.appraise.Appraiser;
import dev.imans.appraise.Requirements;
import dev.imans.crypto.HashAlgo;
import dev.imans.crypto.Keyring;
import dev.imans.daemon.Log;
import dev.imans.linux.Fd;
import dev.imans.linux.FileHandles;
import dev.imans.linux.LinuxException;
import dev.imans.linux.Memfd;
import dev.imans.linux.Proc;
import dev.imans.linux.Stat;
import dev.imans.linux.Xattr;
import dev.imans.policy.AccessFacts;
import dev.imans.policy.FileFacts;
import dev.imans.policy.Func;
import dev.imans.policy.Policy;
import dev.imans.policy.PolicyException;
import dev.imans.policy.PolicyMatcher;
import dev.imans.xattr.ImaXattr;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Random;

/**
 * Runs the parts of a decision that need no event a few thousand times, on a thread of its own when the
 * daemon starts: hashing through a descriptor, reading and decoding the label, the appraisal, the policy
 * match, the integrity cache, and the native calls an event makes. Until the JIT compiler has seen them,
 * every open is judged by the interpreter, and a container's start is a burst of first opens: a python3
 * start in a fresh daemon took about twice as long as in a daemon warmed by another container
 * (bench/run.sh start). It touches nothing but a memfd of its own and structures of its own.
 */
final class Warmup {
    private static final int ROUNDS = 4000;

    private Warmup() {}

    /**
     * Starts the warm-up, then, if {@code config} says so, the {@link Rehearsal}; the thread ends by itself
     * (a few seconds of one core), or soon once {@code stopped} says so (a daemon that stops meanwhile).
     */
    static Thread start(EnforcementConfig config, java.util.function.BooleanSupplier stopped) {
        return Thread.ofPlatform().name("imans-warmup").daemon(true).start(() -> {
            long t0 = System.nanoTime();
            try {
                if (!run(config.hashAlgo(), ROUNDS, stopped)) {
                    return;
                }
            } catch (IOException | PolicyException | RuntimeException e) {
                // Nothing depends on it: the first opens are then judged by slower code, as before.
                Log.warn("warm-up stopped: " + e);
                return;
            }
            String rehearsed = config.rehearse() ? rehearse(config, stopped) : "";
            if (!stopped.getAsBoolean()) {
                Log.info("warm-up done in " + (System.nanoTime() - t0) / 1_000_000 + " ms" + rehearsed);
            }
        });
    }

    /** Runs the rehearsal on a thread whose lines (and its engines') are set aside; what to log of it. */
    private static String rehearse(EnforcementConfig config, java.util.function.BooleanSupplier stopped) {
        String[] said = {""};
        Thread t = Thread.ofPlatform().name("imans-rehearsal").daemon(true).start(() -> {
            Log.aside("warm-up rehearsal: ");
            try {
                said[0] = ", " + Rehearsal.run(config, stopped);
            } catch (IOException | PolicyException | RuntimeException e) {
                said[0] = ", without its rehearsal (" + e.getMessage() + ")";
            } catch (InterruptedException e) {
                said[0] = ", rehearsal interrupted";
            }
        });
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return said[0];
    }

    static void run(HashAlgo algo, int rounds) throws IOException, PolicyException {
        run(algo, rounds, () -> false);
    }

    /** Whether every round ran ({@code stopped} ends it early). */
    private static boolean run(HashAlgo algo, int rounds, java.util.function.BooleanSupplier stopped)
            throws IOException, PolicyException {
        Policy policy = dev.imans.policy.PolicyParser.parse("dont_appraise fsmagic=0x9fa0\n"
                + "appraise fsmagic=0x01021994 func=FILE_CHECK\nmeasure func=BPRM_CHECK\n");
        Requirements req = Requirements.hashOrSignature(algo);
        AppraisalKey key = new AppraisalKey(req, Keyring.empty());
        IntegrityCache cache = new IntegrityCache();
        Random random = new Random(1);
        // Two buffers refilled in place: fresh arrays made this thread's garbage about 50 MB, whose
        // young collection then came due during the first containers' starts.
        byte[] small = new byte[4096];
        byte[] large = new byte[256 * 1024];
        try (Fd fd = Memfd.create("imans-warmup", Memfd.MFD_CLOEXEC)) {
            int f = fd.value();
            Path self = Path.of("/proc/self/fd/" + f);
            for (int i = 0; i < rounds; i++) {
                if (stopped.getAsBoolean()) {
                    return false;
                }
                // Mostly small files, as a program's libraries and modules are; now and then a larger one.
                byte[] content = i % 50 == 0 ? large : small;
                random.nextBytes(content);
                Files.write(self, content);
                byte[] digest = FdHasher.forThread().digest(f, algo, content.length);
                try {
                    Xattr.set(f, Xattr.SECURITY_IMA, ImaXattr.hash(algo, digest).encode());
                } catch (LinuxException e) {
                    // No security xattrs on this kernel's memfds: the label is decoded from memory below.
                }
                Optional<ImaXattr> label = Xattr.get(f, Xattr.SECURITY_IMA).map(ImaXattr::decode)
                        .or(() -> Optional.of(ImaXattr.decode(ImaXattr.hash(algo, digest).encode())));
                Stat.FsStat fs = Stat.fstatfs(f);
                var st = Stat.fstat(f);
                FileHandles.fid(f);
                Proc.readlink("/proc/self/ns/mnt");
                FileKey fileKey = new FileKey(st.dev(), i);
                FileStamp stamp = new FileStamp(content.length, i, 0, i, 0);
                FileFacts facts = new FileFacts(fs.type(), "tmpfs", FileFacts.NO_UUID, 0, 0);
                PolicyMatcher.match(policy, new AccessFacts(i % 2 == 0 ? Func.FILE_CHECK : Func.BPRM_CHECK, 4, facts,
                        0, 0, 0, 0, 0, 0, false, false, null, null));
                if (cache.get(fileKey, stamp, key).isEmpty()) {
                    IntegrityCache.Token token = cache.token(fileKey);
                    AppraisalResult r = Appraiser.appraise(label, cache.digests(fileKey, stamp, f), req,
                            Keyring.empty());
                    cache.put(fileKey, stamp, key, r, token);
                }
                if (i % 1000 == 999) {
                    cache.clear();
                }
            }
        }
        return true;
    }
}
