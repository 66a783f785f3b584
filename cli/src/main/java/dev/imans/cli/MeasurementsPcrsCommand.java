package dev.imans.cli;

import dev.imans.crypto.HashAlgo;
import dev.imans.measure.ListRecord;
import dev.imans.measure.ListVerifier;
import dev.imans.measure.PcrFile;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code imans measurements pcrs}: the PCR values a list gives, in evmctl's {@code --pcrs} file format. */
@Command(name = "pcrs",
        mixinStandardHelpOptions = true,
        description = {"Replay a measurement list (binary, or ascii) into a fresh PCR bank and print all 24 PCRs "
                + "as 'PCR-NN: hex' lines, the file format of evmctl ima_measurement --pcrs ALGO,FILE, or with "
                + "--format keylime the PCR 10 value alone, as the hex Keylime compares its replay with. "
                + "Violations extend with 0xff as the kernel does. Refuses a list whose template digests "
                + "do not match their data.",
                "Exit status: 0 printed, 1 malformed or tampered list, 2 usage or I/O error."})
public final class MeasurementsPcrsCommand implements Callable<Integer> {
    /** Keylime's {@code config.IMA_PCR}: the one PCR its verifier replays a list into. */
    private static final int KEYLIME_IMA_PCR = 10;

    @Option(names = "--bank", converter = BankConverter.class, paramLabel = "ALGO", defaultValue = "sha1",
            description = "PCR bank to compute. Default: ${DEFAULT-VALUE}.")
    HashAlgo bank;

    @Option(names = "--list-bank", converter = BankConverter.class, paramLabel = "ALGO", defaultValue = "sha1",
            description = "Digest algorithm of the list FILE. Default: ${DEFAULT-VALUE}.")
    HashAlgo listBank;

    /** What to print. */
    enum Format { evmctl, keylime }

    @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "evmctl",
            description = "evmctl (every PCR, 'PCR-NN: hex') or keylime (PCR 10's hex, one line). Default: ${DEFAULT-VALUE}.")
    Format format;

    @Parameters(paramLabel = "FILE", description = "Measurement list, binary or ascii.")
    Path file;

    @Override
    public Integer call() {
        List<ListRecord> records;
        try {
            records = ListFile.readAny(file, listBank).records();
        } catch (ListFile.Failure f) {
            System.err.println("imans measurements pcrs: " + f.getMessage());
            return f.exitCode;
        }
        ListVerifier.Report report = ListVerifier.replay(records, List.of(bank));
        if (!report.digestsValid()) {
            ListVerifier.DigestMismatch m = report.mismatches().getFirst();
            System.err.println("imans measurements pcrs: " + file + ": " + report.mismatches().size()
                    + " template digest(s) do not match their data, first at offset " + m.offset()
                    + " (" + m.name() + ")");
            return MeasurementsCommand.EXIT_FAIL;
        }
        System.out.print(format == Format.keylime
                ? report.perBank().get(bank).hex(KEYLIME_IMA_PCR) + "\n"
                : PcrFile.format(report.perBank().get(bank)));
        System.out.flush();
        return MeasurementsCommand.EXIT_OK;
    }
}
