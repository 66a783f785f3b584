package dev.imans.daemon.fanotify;

import dev.imans.linux.LinuxException;
import dev.imans.linux.Proc;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A test decider that goes by file name: {@code deny-*} denied, {@code slow-*} and {@code hang-*}
 * deferred (released by latches), {@code boom-*} throws, {@code cache-*} allowed with an ignore mark;
 * everything else allowed. Records every name it was asked about, in order, and when each got its answer.
 */
final class NameDecider implements Decider {
    final ConcurrentLinkedQueue<String> asked = new ConcurrentLinkedQueue<>();
    final ConcurrentLinkedQueue<String> answered = new ConcurrentLinkedQueue<>();
    final CountDownLatch slowRelease = new CountDownLatch(1);
    final CountDownLatch hangEntered = new CountDownLatch(1);
    volatile Consumer<PermissionEvent> onCache = e -> { };

    @Override
    public Verdict decide(PermissionEvent event) {
        String name = name(event);
        asked.add(name);
        Verdict v;
        if (name.startsWith("deny-")) {
            v = Verdict.DENY;
        } else if (name.startsWith("slow-") || name.startsWith("hang-")) {
            return Verdict.DEFER;
        } else if (name.startsWith("boom-")) {
            throw new IllegalStateException("decider bug on " + name);
        } else if (name.startsWith("sync-hang-")) {
            hangEntered.countDown();
            sleepUninterruptibly(20_000);
            v = Verdict.ALLOW;
        } else {
            if (name.startsWith("cache-")) {
                onCache.accept(event);
            }
            v = Verdict.ALLOW;
        }
        answered.add(name);
        return v;
    }

    @Override
    public Verdict decideDeferred(PermissionEvent event) throws InterruptedException {
        String name = name(event);
        if (name.startsWith("slow-boom")) {
            throw new IllegalStateException("cold path bug on " + name);
        }
        if (name.startsWith("hang-")) {
            hangEntered.countDown();
            sleepUninterruptibly(20_000);
        } else if (!slowRelease.await(20, TimeUnit.SECONDS)) {
            throw new IllegalStateException("slow decision never released");
        }
        answered.add(name);
        return Verdict.ALLOW;
    }

    List<String> askedAbout(String name) {
        return asked.stream().filter(name::equals).toList();
    }

    static String name(PermissionEvent event) {
        try {
            return Path.of(Proc.fdPath(event.fd())).getFileName().toString();
        } catch (LinuxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Ignores interrupts on purpose: a decider that will not stop is what shutdown must survive. */
    private static void sleepUninterruptibly(long millis) {
        long end = System.nanoTime() + millis * 1_000_000;
        while (System.nanoTime() < end) {
            try {
                Thread.sleep(50);
            } catch (InterruptedException ignored) {
                // keep hanging
            }
        }
    }
}
