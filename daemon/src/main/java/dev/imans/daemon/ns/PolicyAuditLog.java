package dev.imans.daemon.ns;

import dev.imans.audit.AuditEncoder;
import dev.imans.audit.AuditStamp;
import dev.imans.audit.StatusRecord;
import dev.imans.audit.Subject;
import dev.imans.daemon.Log;
import dev.imans.ns.PolicyTarget;
import dev.imans.ns.SessionError;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * Appends the kernel's policy status records (type 1802, {@code op=policy_update} and
 * {@code op=update_policy}) to an audit log file, one {@code type=... audit(...): ...} line each,
 * as {@code ausearch --raw} prints them.
 */
public final class PolicyAuditLog implements PolicyUpdateListener, AutoCloseable {
    private final FileChannel out;
    private final AuditEncoder encoder = AuditEncoder.DEFAULT;
    private long serial;

    private PolicyAuditLog(FileChannel out) {
        this.out = out;
    }

    public static PolicyAuditLog open(Path file) throws IOException {
        if (file.getParent() != null) {
            Files.createDirectories(file.getParent());
        }
        return new PolicyAuditLog(FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND));
    }

    @Override
    public void ruleRejected(PolicyTarget target, Caller writer, SessionError error) {
        write(StatusRecord.invalidPolicy(subject(writer)));
    }

    @Override
    public void policyUpdate(PolicyTarget target, Caller writer, Optional<SessionError> error) {
        write(StatusRecord.policyUpdate(subject(writer), error.isEmpty()));
    }

    private static Subject subject(Caller c) {
        return Subject.of((int) c.pid(), Integer.toUnsignedLong(c.uid()), c.auid(), c.ses(), c.comm());
    }

    private synchronized void write(StatusRecord record) {
        String line = encoder.line(AuditStamp.of(System.currentTimeMillis(), ++serial), record) + "\n";
        try {
            out.write(ByteBuffer.wrap(line.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        } catch (IOException e) {
            Log.error("cannot write audit record: " + e.getMessage());
        }
    }

    @Override
    public synchronized void close() throws IOException {
        out.close();
    }
}
