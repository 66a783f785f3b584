package dev.imans.cli;

import dev.imans.crypto.HashAlgo;
import dev.imans.daemon.DaemonConfig;
import dev.imans.daemon.measure.ArchivedList;
import dev.imans.measure.ListFormatException;
import dev.imans.measure.MeasurementList;
import dev.imans.measure.MeasurementListCodec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code imans measurements archived}: the kept lists of namespaces that ended. */
@Command(name = "archived",
        mixinStandardHelpOptions = true,
        description = {"List the measurement lists the daemon archived when their namespaces ended, oldest first:"
                + " nsid, time archived (UTC), entries, the PCR-10 values they replay to, and the file, which"
                + " print, verify and pcrs read as they read a binary list.",
                "Exit status: 0 listed, 1 an archived file is damaged, 2 usage or I/O error."})
public final class MeasurementsArchivedCommand implements Callable<Integer> {
    @Option(names = "--state", paramLabel = "DIR",
            description = "The daemon's state directory. Default: ${DEFAULT-VALUE}.")
    Path state = DaemonConfig.DEFAULT_STATE;

    @Option(names = "--nsid", paramLabel = "NSID", description = "Only the lists of this namespace id.")
    Long nsid;

    @Option(names = "--alive-at", paramLabel = "INSTANT",
            description = "Only the lists archived at or after INSTANT (ISO-8601, e.g. 2026-11-29T21:00:00Z): with"
                    + " --nsid, the first one is that of the namespace that had the id then (ids are reused).")
    String aliveAt;

    @Override
    public Integer call() {
        Instant after = Instant.EPOCH;
        if (aliveAt != null) {
            try {
                after = Instant.parse(aliveAt);
            } catch (DateTimeParseException e) {
                System.err.println("imans measurements archived: --alive-at " + aliveAt + ": not an ISO-8601 instant");
                return MeasurementsCommand.EXIT_USAGE;
            }
        }
        List<ArchivedList> all;
        try {
            all = ArchivedList.in(state);
        } catch (IOException e) {
            System.err.println("imans measurements archived: " + state + ": " + ListFile.reason(e));
            return MeasurementsCommand.EXIT_USAGE;
        }
        int rc = MeasurementsCommand.EXIT_OK;
        for (ArchivedList a : all) {
            if ((nsid != null && a.nsid() != nsid) || a.archived().isBefore(after)) {
                continue;
            }
            try {
                MeasurementList l = MeasurementListCodec.restore(Files.readAllBytes(a.file()));
                System.out.println(a.nsid() + " " + a.archived() + " " + l.runtimeMeasurementsCount() + " entries"
                        + " PCR-10 sha1:" + l.bank(HashAlgo.SHA1).hex(10) + " sha256:" + l.bank(HashAlgo.SHA256).hex(10)
                        + " " + a.file());
            } catch (IOException | ListFormatException | IllegalArgumentException e) {
                System.out.println(a.nsid() + " " + a.archived() + " DAMAGED " + a.file() + ": " + e.getMessage());
                rc = MeasurementsCommand.EXIT_FAIL;
            }
        }
        System.out.flush();
        return rc;
    }
}
