package dev.imans.cli;

import dev.imans.crypto.FileDigester;
import dev.imans.crypto.HashAlgo;
import dev.imans.linux.LinuxException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;

/**
 * The shared shape of the per-file commands: expand the paths, run an action on each file, report
 * each failure with its path and reason on stderr, and exit 0 if all went well, 1 otherwise.
 */
final class FileRun {
    /** One file's work; a thrown exception's message becomes the reported reason. */
    interface Action {
        /** Returns false when the file was handled but failed (the action printed why). */
        boolean run(Path file) throws Exception;
    }

    private final String command;
    private final PrintWriter err;
    private final FileDigester digester = new FileDigester();
    private boolean failed;

    FileRun(String command, PrintWriter err) {
        this.command = command;
        this.err = err;
    }

    FileDigester digester() {
        return digester;
    }

    int run(List<Path> paths, boolean recursive, Action action) {
        for (Path f : TargetFiles.expand(paths, recursive, this::fail)) {
            try {
                if (!action.run(f)) {
                    failed = true;
                }
            } catch (LinuxException e) {
                fail(f, e.errno().name() + " (" + e.errno().message() + ") in " + e.call());
            } catch (HashAlgo.UnsupportedHashException e) {
                fail(f, e.getMessage());
            } catch (IOException e) {
                fail(f, e.getMessage() == null ? e.toString() : e.getMessage());
            } catch (Exception e) {
                fail(f, e.toString());
            }
        }
        err.flush();
        return failed ? 1 : 0;
    }

    void fail(Path file, String reason) {
        failed = true;
        err.println("imans " + command + ": " + file + ": " + reason);
    }
}
