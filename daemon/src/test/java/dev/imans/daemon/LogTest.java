package dev.imans.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The log's level filter and its two line formats, through the real {@link Log} and System.Logger. */
class LogTest {
    private final ByteArrayOutputStream captured = new ByteArrayOutputStream();
    private final PrintStream before = Log.redirect(new PrintStream(captured, true, StandardCharsets.UTF_8));
    private final Log.Level level = Log.threshold();
    private final boolean journal = Log.journalFormat();

    @TempDir
    Path tmp;

    @AfterEach
    void restore() {
        Log.redirect(before);
        Log.configure(level, journal);
    }

    private String lines() {
        return captured.toString(StandardCharsets.UTF_8);
    }

    private static void everyLevel() {
        Log.debug("d");
        Log.info("i");
        Log.warn("w");
        Log.error("e");
    }

    @Test
    void eachLevelKeepsItselfAndWhatIsMoreSevere() {
        Log.configure(Log.Level.WARN, true);
        everyLevel();
        assertThat(lines()).isEqualTo("<4>w\n<3>e\n");
        captured.reset();
        Log.configure(Log.Level.ERROR, true);
        everyLevel();
        assertThat(lines()).isEqualTo("<3>e\n");
        captured.reset();
        Log.configure(Log.Level.DEBUG, true);
        everyLevel();
        assertThat(lines()).isEqualTo("<7>d\n<6>i\n<4>w\n<3>e\n");
        captured.reset();
        Log.configure(Log.Level.INFO, false);
        everyLevel();
        assertThat(lines()).matches("(?s)\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3} imans\\[\\d+\\] info: i\n"
                + "\\S+ \\S+ imans\\[\\d+\\] warn: w\n\\S+ \\S+ imans\\[\\d+\\] error: e\n");
    }

    @Test
    void aJournalRecordOfSeveralLinesHasThePrefixOnEach() {
        Log.configure(Log.Level.INFO, true);
        Log.warn("first\nsecond");
        assertThat(lines()).isEqualTo("<4>first\n<4>second\n");
    }

    @Test
    void systemLoggersGoThroughTheSameFilterAndFormat() {
        Log.configure(Log.Level.WARN, true);
        System.Logger logger = System.getLogger("dev.imans.test");
        assertThat(logger.isLoggable(System.Logger.Level.INFO)).isFalse();
        logger.log(System.Logger.Level.INFO, "quiet");
        logger.log(System.Logger.Level.WARNING, "loud {0}", 1);
        logger.log(System.Logger.Level.ERROR, "failed", new IllegalStateException("why"));
        logger.log(System.Logger.Level.TRACE, "never");
        assertThat(lines()).isEqualTo("<4>loud 1\n<3>failed: java.lang.IllegalStateException: why\n");
    }

    @Test
    void theJournalIsRecognisedByStandardErrorsDeviceAndInode() throws Exception {
        // What systemd would set for a stream whose identity is fd 2's, read as the JDK reads it.
        Path fd2 = Path.of("/proc/self/fd/2");
        Object dev = Files.getAttribute(fd2, "unix:dev");
        Object ino = Files.getAttribute(fd2, "unix:ino");
        assertThat(Log.journalStream(Map.of("JOURNAL_STREAM", dev + ":" + ino))).isTrue();
        assertThat(Log.journalStream(Map.of("JOURNAL_STREAM", dev + ":" + ((Long) ino + 1)))).isFalse();
        assertThat(Log.journalStream(Map.of("JOURNAL_STREAM", "garbage"))).isFalse();
        assertThat(Log.journalStream(Map.of())).isFalse();
        Path other = Files.createFile(tmp.resolve("other"));
        assertThat(Log.journalStream(Map.of("JOURNAL_STREAM", Files.getAttribute(other, "unix:dev") + ":"
                + Files.getAttribute(other, "unix:ino")))).isFalse();
    }
}
