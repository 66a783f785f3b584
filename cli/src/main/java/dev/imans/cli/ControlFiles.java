package dev.imans.cli;

import java.io.FileNotFoundException;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Reads and writes control files the way a shell does (one open, one write, one close), turning
 * the kernel's errors into messages that say what they mean for that file.
 */
final class ControlFiles {
    private ControlFiles() {}

    /** What went wrong, by the errno text the JDK reports. */
    enum Failure { EINVAL, EBUSY, EPERM, EACCES, ENOENT, EIO, OTHER }

    /** A failed control-file operation: when it failed, how, and the JDK's message. */
    static final class ControlIoException extends IOException {
        final Failure failure;
        final boolean atClose;

        ControlIoException(String message, Failure failure, boolean atClose, Throwable cause) {
            super(message, cause);
            this.failure = failure;
            this.atClose = atClose;
        }
    }

    /** Writes {@code data} to {@code file} in one {@code write()} and closes it. */
    static void write(Path file, byte[] data) throws ControlIoException {
        FileOutputStream out;
        try {
            out = new FileOutputStream(file.toFile());
        } catch (FileNotFoundException e) {
            throw failure(e, false);
        }
        try {
            out.write(data);
        } catch (IOException e) {
            try {
                out.close();
            } catch (IOException ignored) {
                // the write's error is the one to report
            }
            throw failure(e, false);
        }
        try {
            out.close();
        } catch (IOException e) {
            throw failure(e, true);
        }
    }

    /** The content of a control file. */
    static String read(Path file) throws ControlIoException {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (java.nio.file.AccessDeniedException e) {
            throw new ControlIoException(e.getMessage() + ": Permission denied", Failure.EACCES, false, e);
        } catch (NoSuchFileException e) {
            throw new ControlIoException(e.getMessage(), Failure.ENOENT, false, e);
        } catch (IOException e) {
            throw failure(e, false);
        }
    }

    private static ControlIoException failure(IOException e, boolean atClose) {
        String m = String.valueOf(e.getMessage());
        Failure f = m.contains("Invalid argument") ? Failure.EINVAL
                : m.contains("Device or resource busy") ? Failure.EBUSY
                : m.contains("Operation not permitted") ? Failure.EPERM
                : m.contains("Permission denied") ? Failure.EACCES
                : m.contains("No such file or directory") ? Failure.ENOENT
                : m.contains("Input/output error") ? Failure.EIO
                : Failure.OTHER;
        return new ControlIoException(m, f, atClose, e);
    }
}
