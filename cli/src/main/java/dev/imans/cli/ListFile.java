package dev.imans.cli;

import dev.imans.crypto.HashAlgo;
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

    static String reason(IOException e) {
        return switch (e) {
            case java.nio.file.NoSuchFileException x -> "no such file";
            case java.nio.file.AccessDeniedException x -> "permission denied";
            case java.nio.file.FileSystemException x when x.getReason() != null -> x.getReason();
            default -> e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        };
    }
}
