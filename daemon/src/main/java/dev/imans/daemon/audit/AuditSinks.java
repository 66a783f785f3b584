package dev.imans.daemon.audit;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Opens the sinks a daemon was asked for, all before any permission event is held. */
public final class AuditSinks {
    private AuditSinks() {}

    /** A file sink if {@code file} is given, then /dev/kmsg and standard error if asked for. */
    public static List<AuditSink> open(Optional<Path> file, boolean kmsg, boolean stderr) throws IOException {
        List<AuditSink> out = new ArrayList<>();
        try {
            if (file.isPresent()) {
                out.add(FileAuditSink.open(file.get()));
            }
            if (kmsg) {
                out.add(KmsgAuditSink.open());
            }
            if (stderr) {
                out.add(StreamAuditSink.stderr());
            }
        } catch (IOException e) {
            for (AuditSink s : out) {
                s.close();
            }
            throw e;
        }
        return out;
    }
}
