package dev.imans.daemon.measure;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imans.crypto.HashAlgo;
import dev.imans.daemon.Eventually;
import dev.imans.daemon.Log;
import dev.imans.daemon.health.Condition;
import dev.imans.daemon.health.Health;
import dev.imans.measure.EventData;
import dev.imans.measure.MeasuredDigest;
import dev.imans.measure.MeasurementEntry;
import dev.imans.measure.MeasurementList;
import dev.imans.measure.MeasurementListCodec;
import dev.imans.measure.Template;
import dev.imans.ns.PolicyTarget;
import java.io.ByteArrayOutputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The list files of a {@link MeasurementStore} on a real filesystem: each entry is in the file when
 * {@code append} returns (no close needed), a torn last record is cut off on the next start, and a file
 * that cannot be written is a health state that a rewrite of the whole list clears.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ListFilesTest {
    private static final PolicyTarget HOST = new PolicyTarget.Host();

    @TempDir
    Path state;

    private static EventData file(String path, int fill) {
        byte[] digest = new byte[32];
        Arrays.fill(digest, (byte) fill);
        return EventData.file(path, new MeasuredDigest(HashAlgo.SHA256, digest)).name(path.getBytes(StandardCharsets.UTF_8))
                .build();
    }

    private static MeasurementStore open(Path state, Health health) throws IOException {
        return MeasurementStore.open(state, HashAlgo.SHA256, Template.IMA_NG, List.of(), false, health,
                ArchivePolicy.DEFAULT);
    }

    private static void append(MeasurementStore store, String path, int fill) {
        store.append(OptionalLong.empty(), 10, Template.IMA_NG, file(path, fill));
    }

    private Path hostFile() {
        return state.resolve("measurements/host.list");
    }

    @Test
    void everyEntryIsInTheFileWhenAppendReturnsAndATornLastRecordIsDroppedOnRestart() throws Exception {
        Health health = new Health();
        // Never closed, as a daemon killed with SIGKILL never closes its files.
        MeasurementStore killed = open(state, health);
        for (int i = 0; i < 50; i++) {
            append(killed, "/f" + i, i);
            MeasurementList onDisk = MeasurementListCodec.restore(Files.readAllBytes(hostFile()));
            assertThat(onDisk.runtimeMeasurementsCount()).isEqualTo(i + 2);
        }
        MeasurementList.Snapshot before = killed.current(HOST).orElseThrow();
        long whole = Files.size(hostFile());

        // The daemon died inside the write of the next record: part of it reached the file.
        MeasurementEntry next = MeasurementEntry.create(10, Template.IMA_NG, file("/torn", 99), HashAlgo.SHA256);
        ByteArrayOutputStream record = new ByteArrayOutputStream();
        MeasurementListCodec.writeRecord(record, next);
        try (FileOutputStream out = new FileOutputStream(hostFile().toFile(), true)) {
            out.write(record.toByteArray(), 0, record.size() / 2);
        }

        ByteArrayOutputStream log = new ByteArrayOutputStream();
        PrintStream old = Log.redirect(new PrintStream(log, true, StandardCharsets.UTF_8));
        MeasurementStore restarted;
        try {
            restarted = open(state, health);
        } finally {
            Log.redirect(old);
        }
        assertThat(log.toString(StandardCharsets.UTF_8)).contains("host measurement list " + hostFile()
                + ": dropped a torn last record (" + (record.size() / 2) + " bytes at offset " + whole
                + " are a record cut short", "51 whole entries kept");
        assertThat(Files.size(hostFile())).isEqualTo(whole);
        MeasurementList.Snapshot after = restarted.current(HOST).orElseThrow();
        assertThat(after.entries()).containsExactlyElementsOf(before.entries());
        assertThat(after.banks()).isEqualTo(before.banks());

        // The list goes on from the restored PCRs, in memory and in the file alike.
        append(restarted, "/after", 7);
        MeasurementList expected = new MeasurementList(HashAlgo.SHA256, MeasurementList.DEFAULT_BANKS);
        before.entries().forEach(expected::add);
        expected.add(MeasurementEntry.create(10, Template.IMA_NG, file("/after", 7), HashAlgo.SHA256));
        assertThat(restarted.current(HOST).orElseThrow().banks()).isEqualTo(expected.snapshot().banks());
        MeasurementList onDisk = MeasurementListCodec.restore(Files.readAllBytes(hostFile()));
        assertThat(onDisk.snapshot().entries()).containsExactlyElementsOf(expected.snapshot().entries());
        assertThat(onDisk.snapshot().banks()).isEqualTo(expected.snapshot().banks());
        restarted.close();
        killed.close();
        health.close();
    }

    @Test
    void aFullFilesystemIsAHealthStateAndTheRewriteAfterItKeepsEveryEntry() throws Exception {
        Path mnt = Files.createDirectory(state.resolve("small"));
        run("mount", "-t", "tmpfs", "-o", "size=64k", "imans-test-small", mnt.toString());
        Health health = new Health();
        try {
            MeasurementStore store = open(mnt, health);
            Path filler = mnt.resolve("filler");
            try (FileOutputStream out = new FileOutputStream(filler.toFile())) {
                byte[] page = new byte[4096];
                while (true) {
                    out.write(page);
                }
            } catch (IOException full) {
                // ENOSPC: the filesystem is full.
            }
            int added = 0;
            while (!health.isDegraded(Condition.MEASUREMENTS_UNSAVED, "host")) {
                assertThat(added).as("appends to a full filesystem never failed").isLessThan(200);
                append(store, "/full" + added, added);
                added++;
            }
            assertThat(health.render()).contains("measurements-unsaved host", "No space left on device");
            // Nothing is lost from the list itself, and reads are served as usual.
            assertThat(store.current(HOST).orElseThrow().runtimeMeasurementsCount()).isEqualTo(added + 1);
            append(store, "/while-degraded", 1);

            Files.delete(filler);
            // The health retry writes the whole list anew.
            Eventually.eventually(() -> assertThat(health.isDegraded(Condition.MEASUREMENTS_UNSAVED, "host")).isFalse());
            append(store, "/after", 2);
            MeasurementList.Snapshot now = store.current(HOST).orElseThrow();
            assertThat(now.runtimeMeasurementsCount()).isEqualTo(added + 3);
            MeasurementList onDisk = MeasurementListCodec.restore(Files.readAllBytes(mnt.resolve("measurements/host.list")));
            assertThat(onDisk.snapshot().entries()).containsExactlyElementsOf(now.entries());
            assertThat(onDisk.snapshot().banks()).isEqualTo(now.banks());
            store.close();
        } finally {
            health.close();
            run("umount", mnt.toString());
        }
    }

    @Test
    void theArchiveKeepsTheNewestListsWithinTheirAgeAndIgnoresFilesNotItsOwn() throws Exception {
        ListFiles files = new ListFiles(state, false);
        Path archive = Files.createDirectories(files.archiveDir());
        Instant now = Instant.parse("2026-11-29T12:00:00Z");
        List<String> names = List.of("11-20261001T000000.000Z.list", "12-20261120T000000.000Z.list",
                "13-20261125T000000.000Z.list", "14-20261128T000000.000Z.list", "15-20261129T110000.000Z.list");
        for (String n : names) {
            Files.writeString(archive.resolve(n), n);
        }
        Files.writeString(archive.resolve("notes.txt"), "not a list");
        Files.writeString(archive.resolve("x-y.list"), "not named as an archive");
        assertThat(ArchivedList.in(state)).extracting(ArchivedList::nsid).containsExactly(11L, 12L, 13L, 14L, 15L);

        // Thirty days: the October one is too old; three at most: the two oldest of the rest go too.
        files.prune(new ArchivePolicy(3, java.time.Duration.ofDays(30)), now);
        assertThat(ArchivedList.in(state)).extracting(ArchivedList::nsid).containsExactly(13L, 14L, 15L);
        assertThat(archive.resolve("notes.txt")).exists();
        assertThat(archive.resolve("x-y.list")).exists();

        // Archiving a namespace's list applies the policy at once.
        MeasurementList list = new MeasurementList(HashAlgo.SHA256, MeasurementList.DEFAULT_BANKS);
        list.add(MeasurementEntry.create(10, Template.IMA_NG, file("/x", 1), HashAlgo.SHA256));
        byte[] image = MeasurementListCodec.save(list);
        files.replace("16", image);
        Optional<Path> moved = files.archive("16", now, new ArchivePolicy(2, java.time.Duration.ofDays(30)));
        assertThat(moved).contains(archive.resolve("16-20261129T120000.000Z.list"));
        assertThat(ArchivedList.in(state)).extracting(ArchivedList::nsid).containsExactly(15L, 16L);
        assertThat(Files.readAllBytes(moved.get())).isEqualTo(image);
        assertThat(files.file("16")).doesNotExist();
        // Keeping none deletes the list instead.
        files.replace("17", image);
        assertThat(files.archive("17", now, new ArchivePolicy(0, java.time.Duration.ofDays(30)))).isEmpty();
        assertThat(files.file("17")).doesNotExist();
    }

    private static void run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).inheritIO().start();
        assertThat(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0).as(String.join(" ", cmd)).isTrue();
    }
}
