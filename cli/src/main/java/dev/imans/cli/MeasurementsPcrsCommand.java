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
        description = {"Replay a binary measurement list into a fresh PCR bank and print all 24 PCRs as "
                + "'PCR-NN: hex' lines, the file format of evmctl ima_measurement --pcrs ALGO,FILE. "
                + "Violations extend with 0xff as the kernel does. Refuses a list whose template digests "
                + "do not match their data.",
                "Exit status: 0 printed, 1 malformed or tampered list, 2 usage or I/O error."})
public final class MeasurementsPcrsCommand implements Callable<Integer> {
    @Option(names = "--bank", converter = BankConverter.class, paramLabel = "ALGO", defaultValue = "sha1",
            description = "PCR bank to compute. Default: ${DEFAULT-VALUE}.")
    HashAlgo bank;

    @Option(names = "--list-bank", converter = BankConverter.class, paramLabel = "ALGO", defaultValue = "sha1",
            description = "Digest algorithm of the list FILE. Default: ${DEFAULT-VALUE}.")
    HashAlgo listBank;

    @Parameters(paramLabel = "FILE", description = "Binary measurement list.")
    Path file;

    @Override
    public Integer call() {
        List<ListRecord> records;
        try {
            records = ListFile.read(file, listBank);
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
        System.out.print(PcrFile.format(report.perBank().get(bank)));
        System.out.flush();
        return MeasurementsCommand.EXIT_OK;
    }
}
