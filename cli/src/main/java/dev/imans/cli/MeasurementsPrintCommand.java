package dev.imans.cli;

import dev.imans.crypto.HashAlgo;
import dev.imans.measure.AsciiList;
import dev.imans.measure.ListRecord;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code imans measurements print}: a binary list in the kernel's ascii form. */
@Command(name = "print",
        mixinStandardHelpOptions = true,
        description = {"Print a binary measurement list as the kernel's ascii_runtime_measurements[_BANK] shows it.",
                "Exit status: 0 printed, 1 malformed list, 2 usage or I/O error."})
public final class MeasurementsPrintCommand implements Callable<Integer> {
    @Option(names = "--bank", converter = BankConverter.class, paramLabel = "ALGO",
            description = "Template digests to show (sha1 as ascii_runtime_measurements, sha256 as "
                    + "ascii_runtime_measurements_sha256). Default: the list's own.")
    HashAlgo bank;

    @Option(names = "--list-bank", converter = BankConverter.class, paramLabel = "ALGO", defaultValue = "sha1",
            description = "Digest algorithm of the list FILE (binary_runtime_measurements: sha1, "
                    + "binary_runtime_measurements_sha256: sha256). Default: ${DEFAULT-VALUE}.")
    HashAlgo listBank;

    @Parameters(paramLabel = "FILE", description = "Binary measurement list.")
    Path file;

    @Override
    public Integer call() {
        List<ListRecord> records;
        try {
            records = ListFile.read(file, listBank);
        } catch (ListFile.Failure f) {
            System.err.println("imans measurements print: " + f.getMessage());
            return f.exitCode;
        }
        byte[] text = bank == null || bank == listBank
                ? AsciiList.renderRecords(records)
                : AsciiList.render(records.stream().map(ListRecord::entry).toList(), bank);
        System.out.writeBytes(text);
        System.out.flush();
        return MeasurementsCommand.EXIT_OK;
    }
}
