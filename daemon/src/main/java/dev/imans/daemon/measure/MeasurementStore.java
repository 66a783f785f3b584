package dev.imans.daemon.measure;

import dev.imans.crypto.HashAlgo;
import dev.imans.daemon.Log;
import dev.imans.daemon.control.MeasurementSource;
import dev.imans.daemon.enforce.FileKey;
import dev.imans.daemon.enforce.FileStamp;
import dev.imans.daemon.enforce.Measurements;
import dev.imans.daemon.health.Health;
import dev.imans.measure.AsciiList;
import dev.imans.measure.BinaryList;
import dev.imans.measure.BootAggregate;
import dev.imans.measure.EventData;
import dev.imans.measure.MeasurementEntry;
import dev.imans.measure.MeasurementList;
import dev.imans.measure.Template;
import dev.imans.ns.NamespaceId;
import dev.imans.ns.PolicyTarget;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The daemon's measurement lists: one for the host and one per registered namespace, each opening with
 * a {@code boot_aggregate} entry (zeros: there is no TPM, as in the kernel's TPM-bypass mode) in PCR 10.
 * The decider measures into them ({@link Measurements}), the control filesystem serves them
 * ({@link MeasurementSource}), and each is kept in a file under the state directory ({@link ListFiles})
 * to which every entry is appended before the open that produced it is answered: a daemon killed at any
 * moment restarts with every entry of every answered open, and the same counters and PCR values.
 *
 * <p>A namespace's list is live as long as its registration: when the namespace is unregistered (its last
 * process exited) its file is moved to the archive ({@link ListFiles#archive}, kept as
 * {@link ArchivePolicy} says) for a verifier that comes after the end, and its final counters and PCR
 * values are logged.
 */
public final class MeasurementStore implements Measurements, MeasurementSource, AutoCloseable {
    private final HashAlgo imaHash;
    private final Template defaultTemplate;
    private final ListFiles files;
    private final Health health;
    private final ArchivePolicy archive;
    private final ScopeList host;
    private final Map<Long, ScopeList> namespaces = new ConcurrentHashMap<>();
    /** The lists archived at open (their namespaces ended while no daemon ran): scope to archived file name. */
    private final Map<String, String> archivedAtOpen;
    /** Set once, before enforcement starts (so before any append), when the daemon has a TPM anchor. */
    private volatile TpmAnchor anchor;

    private MeasurementStore(HashAlgo imaHash, Template defaultTemplate, ListFiles files, Health health,
                             ArchivePolicy archive, ScopeList host, Map<Long, ScopeList> restored,
                             Map<String, String> archivedAtOpen) {
        this.archivedAtOpen = Map.copyOf(archivedAtOpen);
        this.archive = archive;
        this.imaHash = imaHash;
        this.defaultTemplate = defaultTemplate;
        this.files = files;
        this.health = health;
        this.host = host;
        this.namespaces.putAll(restored);
    }

    /**
     * Restores the host's list and those of {@code registered} from {@code stateDir} (new lists where none
     * was saved) and archives the saved lists of namespaces no longer registered, logging their final PCRs.
     *
     * @param imaHash         the {@code ima_hash} of new lists and file digests
     * @param defaultTemplate the template of {@code measure} rules without {@code template=}, and of boot_aggregate
     * @param fsync           fsync each write of entries (survive a power failure, not only a killed daemon)
     * @param health          where a list file that cannot be written is reported (and its rewrite retried)
     * @param archive         how many lists of ended namespaces are kept, for how long
     * @throws IOException naming the file when a saved list of a registered scope cannot be restored
     */
    public static MeasurementStore open(Path stateDir, HashAlgo imaHash, Template defaultTemplate,
                                        List<NamespaceId> registered, boolean fsync, Health health,
                                        ArchivePolicy archive) throws IOException {
        ListFiles files = new ListFiles(stateDir, fsync);
        Map<Long, ScopeList> restored = new ConcurrentHashMap<>();
        Map<String, String> archivedAtOpen = new java.util.HashMap<>();
        ScopeList host = null;
        try {
            host = restoreOrCreate(files, health, ListFiles.HOST, "host", imaHash, defaultTemplate);
            Set<String> kept = new HashSet<>();
            for (NamespaceId id : registered) {
                restored.put(id.inode(), restoreOrCreate(files, health, ListFiles.name(id), "namespace " + id,
                        imaHash, defaultTemplate));
                kept.add(ListFiles.name(id));
            }
            for (String stale : files.namespaceNames()) {
                if (!kept.contains(stale)) {
                    archivedAtOpen.put(stale, archiveStale(files, stale, archive));
                }
            }
            try {
                files.prune(archive, Instant.now());
            } catch (IOException e) {
                Log.warn("cannot prune the archived measurement lists in " + files.archiveDir() + ": " + e.getMessage());
            }
        } catch (IOException | RuntimeException e) {
            if (host != null) {
                host.close();
            }
            restored.values().forEach(ScopeList::close);
            throw e;
        }
        return new MeasurementStore(imaHash, defaultTemplate, files, health, archive, host, restored, archivedAtOpen);
    }

    /** Archives the list of a namespace gone; the archived file's name, or {@code -} when none was kept. */
    private static String archiveStale(ListFiles files, String stale, ArchivePolicy archive) {
        try {
            Optional<MeasurementList> l = files.load(stale, "namespace " + stale);
            Optional<Path> to = files.archive(stale, Instant.now(), archive);
            if (l.isPresent()) {
                Log.info("namespace " + stale + " is no longer registered: its measurement list is "
                        + to.map(p -> "archived as " + p).orElse("dropped (--archive-keep 0)") + " ("
                        + ScopeList.detached("", l.get()).pcrSummary() + ")");
            }
            return archivedName(to);
        } catch (IOException e) {
            Log.warn("saved measurement list of unregistered namespace " + stale + " left in place: "
                    + e.getMessage());
            return dev.imans.tpm.AnchorLog.End.DROPPED;
        }
    }

    private static String archivedName(Optional<Path> to) {
        return to.map(p -> p.getFileName().toString()).orElse(dev.imans.tpm.AnchorLog.End.DROPPED);
    }

    private static ScopeList restoreOrCreate(ListFiles files, Health health, String name, String label,
                                             HashAlgo imaHash, Template template) throws IOException {
        Optional<MeasurementList> saved = files.load(name, label);
        if (saved.isPresent()) {
            ScopeList l = ScopeList.restored(label, name, files, health, saved.get());
            Log.info(label + " measurement list restored: " + l.pcrSummary());
            if (saved.get().imaHash() != imaHash) {
                Log.warn(label + " measurement list was saved with ima_hash " + saved.get().imaHash()
                        + "; new file digests use " + imaHash);
            }
            return l;
        }
        return fresh(files, health, name, label, imaHash, template);
    }

    private static ScopeList fresh(ListFiles files, Health health, String name, String label, HashAlgo imaHash,
                                   Template template) {
        MeasurementList list = new MeasurementList(imaHash, MeasurementList.DEFAULT_BANKS);
        list.add(BootAggregate.entry(template, imaHash, Map.of()));
        return ScopeList.created(label, name, files, health, list);
    }

    /**
     * Anchors every list in PCR {@code pcr} of {@code tpm} ({@link TpmAnchor}): brings the PCR and the
     * anchor log in line with the lists restored, then extends every entry appended from now on. Call
     * once, before anything appends.
     *
     * @throws IOException when the TPM cannot be used (unreachable, or the PCR in no bank this daemon hashes)
     */
    public void anchor(dev.imans.tpm.TpmClient tpm, int pcr, String bootId) throws IOException {
        TpmAnchor a = TpmAnchor.start(files.dir().getParent(), tpm, pcr, bootId, health, this::anchorLists,
                archivedAtOpen);
        host.anchor(a);
        namespaces.values().forEach(l -> l.anchor(a));
        anchor = a;
    }

    /** Every live list's entries, in the order a new anchor epoch extends them: host, then namespaces by inode. */
    private Map<String, List<MeasurementEntry>> anchorLists() {
        Map<String, List<MeasurementEntry>> lists = new java.util.LinkedHashMap<>();
        lists.put(host.fileName(), host.snapshot().entries());
        for (Long id : new java.util.TreeSet<>(namespaces.keySet())) {
            ScopeList l = namespaces.get(id);
            if (l != null) {
                lists.put(l.fileName(), l.snapshot().entries());
            }
        }
        return lists;
    }

    /** The TPM anchor, when the daemon has one. */
    public Optional<TpmAnchor> tpmAnchor() {
        return Optional.ofNullable(anchor);
    }

    /**
     * Follows the registry: a list (and its file) for every namespace newly registered, and the list of
     * every namespace gone archived. Runs as a registry change listener, under the registry's
     * lock: a new namespace's file is written before its registration returns, so its first measured
     * open has a file to append to.
     */
    public void sync(List<NamespaceId> registered) {
        Set<Long> ids = new HashSet<>();
        for (NamespaceId id : registered) {
            ids.add(id.inode());
            namespaces.computeIfAbsent(id.inode(), k -> {
                ScopeList l = fresh(files, health, ListFiles.name(id), "namespace " + id, imaHash, defaultTemplate);
                TpmAnchor a = anchor;
                if (a != null) {
                    // Its boot_aggregate, written with the file, is extended before the first open is judged.
                    l.anchorAll(a);
                }
                return l;
            });
        }
        for (Long id : List.copyOf(namespaces.keySet())) {
            if (ids.contains(id)) {
                continue;
            }
            ScopeList gone = namespaces.remove(id);
            // Closed first: an append racing with the end goes to memory only, never to the archived file.
            gone.close();
            String archivedAs = dev.imans.tpm.AnchorLog.End.DROPPED;
            Optional<Path> to = Optional.empty();
            IOException failed = null;
            try {
                to = files.archive(Long.toString(id), Instant.now(), archive);
                archivedAs = archivedName(to);
            } catch (IOException e) {
                failed = e;
            }
            TpmAnchor a = anchor;
            if (a != null) {
                // The inode may come back as another namespace, whose list starts again at entry 0.
                a.ended(Long.toString(id), archivedAs);
            }
            // Logged once the anchor log records the end too: whoever reads this line finds both.
            if (failed == null) {
                Log.info(gone.label() + " unregistered: its measurement list is "
                        + to.map(p -> "archived as " + p).orElse("dropped") + " (" + gone.pcrSummary() + ")");
            } else {
                Log.error("cannot archive the list of " + gone.label() + " (" + gone.pcrSummary() + "): "
                        + failed.getMessage() + "; it stays in place and is archived at the next start");
            }
        }
    }

    private ScopeList list(OptionalLong scope) {
        return scope.isEmpty() ? host : namespaces.get(scope.getAsLong());
    }

    private ScopeList list(PolicyTarget target) {
        return switch (target) {
            case PolicyTarget.Host h -> host;
            case PolicyTarget.Namespace n -> namespaces.get(n.id().inode());
        };
    }

    // Measurements: the decider's side.

    @Override
    public Template template(dev.imans.policy.Template fromRule) {
        return fromRule == null ? defaultTemplate : Template.lookup(fromRule.templateName());
    }

    @Override
    public boolean measured(OptionalLong scope, FileKey key, FileStamp stamp, int pcr) {
        ScopeList l = list(scope);
        return l == null || l.measured(key, stamp, pcr);
    }

    @Override
    public boolean claim(OptionalLong scope, FileKey key, FileStamp stamp, int pcr) {
        ScopeList l = list(scope);
        return l != null && l.claim(key, stamp, pcr);
    }

    @Override
    public int append(OptionalLong scope, int pcr, Template template, EventData event) {
        ScopeList l = list(scope);
        if (l == null) {
            return 0;
        }
        return l.append(MeasurementEntry.create(pcr, template, event, imaHash));
    }

    @Override
    public int appendViolation(OptionalLong scope, EventData event) {
        ScopeList l = list(scope);
        if (l == null) {
            return 0;
        }
        return l.append(MeasurementEntry.create(BootAggregate.PCR, defaultTemplate, event, imaHash));
    }

    @Override
    public void forget(FileKey key) {
        host.forget(key);
        for (ScopeList l : namespaces.values()) {
            l.forget(key);
        }
    }

    // MeasurementSource: the control filesystem's side.

    private MeasurementList.Snapshot snapshot(PolicyTarget target) {
        ScopeList l = list(target);
        return l == null ? null : l.snapshot();
    }

    @Override
    public byte[] ascii(PolicyTarget scope) {
        MeasurementList.Snapshot s = snapshot(scope);
        return s == null ? new byte[0] : AsciiList.render(s.entries(), HashAlgo.SHA1);
    }

    @Override
    public byte[] binary(PolicyTarget scope) {
        MeasurementList.Snapshot s = snapshot(scope);
        return s == null ? new byte[0] : BinaryList.write(s.entries(), HashAlgo.SHA1);
    }

    @Override
    public long count(PolicyTarget scope) {
        MeasurementList.Snapshot s = snapshot(scope);
        return s == null ? 0 : s.runtimeMeasurementsCount();
    }

    @Override
    public long violations(PolicyTarget scope) {
        MeasurementList.Snapshot s = snapshot(scope);
        return s == null ? 0 : s.violations();
    }

    @Override
    public byte[] anchorLog() {
        if (anchor == null) {
            return new byte[0];
        }
        try {
            return java.nio.file.Files.readAllBytes(TpmAnchor.logFile(files.dir().getParent()));
        } catch (IOException e) {
            // Not written yet (the TPM is unavailable): there is no log to show.
            return new byte[0];
        }
    }

    /** The list of {@code target} as it is now: for tests and tools. */
    public Optional<MeasurementList.Snapshot> current(PolicyTarget target) {
        return Optional.ofNullable(snapshot(target));
    }

    /** Stops writing the list files; every entry added is in them already. Call after enforcement stopped. */
    @Override
    public void close() {
        host.close();
        namespaces.values().forEach(ScopeList::close);
        TpmAnchor a = anchor;
        if (a != null) {
            a.close();
        }
    }
}
