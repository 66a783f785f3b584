package dev.imans.cli;

import dev.imans.crypto.HashAlgo;
import dev.imans.measure.AsciiList;
import dev.imans.measure.BinaryList;
import dev.imans.measure.ListFormatException;
import dev.imans.measure.ListRecord;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Reads a binary measurement list for the {@code measurements} commands, or says why it cannot. */
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
        byte[] data;
        try {
            data = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new Failure(MeasurementsCommand.EXIT_USAGE, file + ": cannot read: " + reason(e));
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
        byte[] data;
        try {
            data = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new Failure(MeasurementsCommand.EXIT_USAGE, file + ": cannot read: " + reason(e));
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

    static String reason(IOException e) {
        return switch (e) {
            case java.nio.file.NoSuchFileException x -> "no such file";
            case java.nio.file.AccessDeniedException x -> "permission denied";
            case java.nio.file.FileSystemException x when x.getReason() != null -> x.getReason();
            default -> e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        };
    }
}
