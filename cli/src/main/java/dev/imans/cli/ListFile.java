package dev.imans.cli;

import dev.imans.crypto.HashAlgo;
import dev.imans.measure.AsciiList;
import dev.imans.measure.BinaryList;
import dev.imans.measure.ListFormatException;
import dev.imans.measure.ListRecord;
import dev.imans.measure.MeasurementListCodec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Reads a measurement list for the {@code measurements} commands, or says why it cannot: the kernel's
 * binary (or ascii) list, or a list file the daemon keeps under its state directory (live or archived).
 */
final class ListFile {
    /** Why a list could not be had, with the exit code it calls for. */
    static final class Failure extends Exception {
        final int exitCode;

        Failure(int exitCode, String message) {
            super(message);
            this.exitCode = exitCode;
        }
    }

    private ListFile() {}

    static List<ListRecord> read(Path file, HashAlgo bank) throws Failure {
        byte[] data = bytes(file);
        if (MeasurementListCodec.isListFile(data)) {
            return daemonList(file, data, bank);
        }
        try {
            return BinaryList.read(data, bank);
        } catch (ListFormatException e) {
            throw new Failure(MeasurementsCommand.EXIT_FAIL, file + ": not a " + bank
                    + " binary measurement list: " + e.getMessage());
        }
    }

    /**
     * A list in either of the kernel's forms, told apart by its first bytes: a binary list opens with
     * a little-endian u32 PCR index below 24 (three zero bytes), an ascii list holds no NUL.
     *
     * @param text the list in the kernel's ascii form: the file itself if it was ascii, else the
     *             records with the template digests they hold (so a changed digest stays visible)
     */
    record AnyList(List<ListRecord> records, boolean ascii, byte[] text) {}

    static AnyList readAny(Path file, HashAlgo bank) throws Failure {
        byte[] data = bytes(file);
        if (MeasurementListCodec.isListFile(data)) {
            List<ListRecord> records = daemonList(file, data, bank);
            return new AnyList(records, false, AsciiList.renderRecords(records));
        }
        boolean binary = data.length >= 4 && data[1] == 0 && data[2] == 0 && data[3] == 0;
        try {
            if (binary) {
                List<ListRecord> records = BinaryList.read(data, bank);
                return new AnyList(records, false, AsciiList.renderRecords(records));
            }
            return new AnyList(AsciiList.read(data, bank), true, data);
        } catch (ListFormatException e) {
            throw new Failure(MeasurementsCommand.EXIT_FAIL, file + ": not a " + bank + " "
                    + (binary ? "binary" : "ascii") + " measurement list: " + e.getMessage());
        }
    }

    private static byte[] bytes(Path file) throws Failure {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new Failure(MeasurementsCommand.EXIT_USAGE, file + ": cannot read: " + reason(e));
        }
    }

    /**
     * The records of a daemon's list file ({@code <state>/measurements/}, live or archived): its body is a
     * binary list with SHA-1 digests whatever {@code bank} says.
     */
    private static List<ListRecord> daemonList(Path file, byte[] data, HashAlgo bank) throws Failure {
        if (bank != HashAlgo.SHA1) {
            throw new Failure(MeasurementsCommand.EXIT_USAGE, file + ": an imans list file holds sha1 template digests,"
                    + " not " + bank);
        }
        try {
            return BinaryList.read(MeasurementListCodec.binaryList(data), HashAlgo.SHA1);
        } catch (ListFormatException e) {
            throw new Failure(MeasurementsCommand.EXIT_FAIL, file + ": not an intact imans list file: " + e.getMessage());
        }
    }

    static String reason(IOException e) {
        return switch (e) {
            case java.nio.file.NoSuchFileException x -> "no such file";
            case java.nio.file.AccessDeniedException x -> "permission denied";
            case java.nio.file.FileSystemException x when x.getReason() != null -> x.getReason();
            default -> e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        };
    }
}
