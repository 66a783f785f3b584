package dev.imans.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.imans.crypto.HashAlgo;
import dev.imans.measure.BinaryList;
import dev.imans.measure.BootAggregate;
import dev.imans.measure.EventData;
import dev.imans.measure.MeasuredDigest;
import dev.imans.measure.MeasurementEntry;
import dev.imans.measure.MeasurementList;
import dev.imans.measure.Template;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real {@code evmctl ima_measurement} replays a list our writer made against PCR files our
 * {@code measurements pcrs} wrote, and rejects the list once a byte of it is flipped.
 */
class EvmctlMeasurementInteropTest {
    @TempDir
    Path dir;
    Path list;
    byte[] listBytes;

    /** evmctl's exit status and what it printed (it prints results on stdout and stderr). */
    record Evmctl(int exitCode, String output) {}

    @BeforeEach
    void buildList() throws Exception {
        MeasurementList ml = new MeasurementList();
        ml.add(BootAggregate.entry(Template.IMA_NG, HashAlgo.SHA256, Map.of()));
        for (int i = 0; i < 4; i++) {
            Path f = dir.resolve("file-" + i);
            Files.writeString(f, "content " + i + "\n");
            MeasuredDigest d = new MeasuredDigest(HashAlgo.SHA256,
                    MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(f)));
            ml.add(MeasurementEntry.create(10, Template.IMA_NG, EventData.file(f.toString(), d).build(), HashAlgo.SHA256));
            byte[] sig = new byte[9 + 64];
            sig[0] = 0x03;
            sig[1] = 0x02;
            sig[2] = (byte) HashAlgo.SHA256.id();
            sig[8] = 64;
            sig[9 + i] = (byte) i;
            ml.add(MeasurementEntry.create(10, Template.IMA_SIG,
                    EventData.file(f.toString(), d).imaXattr(sig).build(), HashAlgo.SHA256));
        }
        ml.add(MeasurementEntry.create(10, Template.IMA_SIG, EventData.violation(dir.resolve("file-0").toString()).build(),
                HashAlgo.SHA256));
        assertThat(ml.runtimeMeasurementsCount()).isEqualTo(10);
        listBytes = BinaryList.write(ml.snapshot().entries(), HashAlgo.SHA1);
        list = dir.resolve("binary_runtime_measurements");
        Files.write(list, listBytes);
        for (String bank : new String[] {"sha1", "sha256"}) {
            CliRun r = CliRun.of("measurements", "pcrs", "--bank", bank, list.toString());
            assertThat(r.exitCode()).as(r.stderr()).isZero();
            Files.write(dir.resolve(bank + ".pcrs"), r.stdout());
        }
        assertThat(Files.readString(dir.resolve("sha256.pcrs")))
                .contains("PCR-10: " + ml.bank(HashAlgo.SHA256).hex(10));
    }

    Evmctl evmctl(Path listFile, boolean ignoreViolations) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("evmctl", "ima_measurement"));
        if (ignoreViolations) {
            cmd.add("--ignore-violations");
        }
        cmd.addAll(List.of("--pcrs", "sha1," + dir.resolve("sha1.pcrs"), "--pcrs", "sha256," + dir.resolve("sha256.pcrs"),
                listFile.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Evmctl(p.exitValue(), out);
    }

    @Test
    void evmctlAcceptsOurListAndPcrs() throws Exception {
        Evmctl e = evmctl(list, true);
        assertThat(e.exitCode()).as(e.output()).isZero();
        assertThat(e.output()).contains("Matched per TPM bank calculated digest(s).");
        assertThat(CliRun.of("measurements", "verify", "--ignore-violations",
                "--pcrs", "sha1," + dir.resolve("sha1.pcrs"), "--pcrs", "sha256," + dir.resolve("sha256.pcrs"),
                list.toString()).exitCode()).isZero();
    }

    @Test
    void withoutIgnoreViolationsBothFail() throws Exception {
        Evmctl e = evmctl(list, false);
        assertThat(e.exitCode()).as(e.output()).isEqualTo(1);
        assertThat(e.output()).contains("Failed to match");
        assertThat(CliRun.of("measurements", "verify", "--pcrs", dir.resolve("sha1.pcrs").toString(), list.toString())
                .exitCode()).isEqualTo(1);
    }

    @Test
    void evmctlRejectsAListWithOneByteFlipped() throws Exception {
        // Second record (ima-ng): a byte of its stored digest, of its file digest, of its file name.
        // (Bytes of a violation record, or of a template name, are covered by no digest.)
        int second = 4 + 20 + 4 + "ima-ng".length() + 4 + readLe32(listBytes, 4 + 20 + 4 + 6);
        int fields = second + 4 + 20 + 4 + "ima-ng".length() + 4;
        for (int at : new int[] {second + 4, fields + 4 + 20, fields + 4 + 40 + 4 + 3}) {
            byte[] b = listBytes.clone();
            b[at] ^= 0x01;
            Path flipped = dir.resolve("flipped-" + at);
            Files.write(flipped, b);
            Evmctl e = evmctl(flipped, true);
            assertThat(e.exitCode()).as("flip at %d: %s", at, e.output()).isEqualTo(1);
            assertThat(e.output()).containsAnyOf("Failed to verify template data digest", "Failed to match");
            CliRun ours = CliRun.of("measurements", "verify", "--ignore-violations", flipped.toString());
            assertThat(ours.exitCode()).as(ours.out() + ours.stderr()).isEqualTo(1);
        }
    }

    private static int readLe32(byte[] b, int at) {
        return (b[at] & 0xff) | (b[at + 1] & 0xff) << 8 | (b[at + 2] & 0xff) << 16 | (b[at + 3] & 0xff) << 24;
    }
}
