package dev.imans.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/** Damaged lines must give an {@link AuditParseException}, never another exception. */
class MalformedInputTest {
    private static final String ALPHABET = " =\"<>():.\\x0123456789abcdefABCDEF-_type=audit";

    @Test
    void mutatedRecordsFailCleanlyOrParse() {
        LongStream.range(0, 3000).forEach(seed -> {
            Random rnd = new Random(seed);
            AuditFormat format = AuditFormat.values()[(int) (seed % 2)];
            AuditRecord record = new RandomRecords(seed, format).next();
            String line = AuditEncoder.of(format).kmsgLine(AuditStamp.of(seed, seed), record);
            StringBuilder sb = new StringBuilder(line);
            int edits = 1 + rnd.nextInt(4);
            for (int e = 0; e < edits && !sb.isEmpty(); e++) {
                int at = rnd.nextInt(sb.length());
                switch (rnd.nextInt(3)) {
                    case 0 -> sb.deleteCharAt(at);
                    case 1 -> sb.insert(at, ALPHABET.charAt(rnd.nextInt(ALPHABET.length())));
                    default -> sb.setCharAt(at, ALPHABET.charAt(rnd.nextInt(ALPHABET.length())));
                }
            }
            String damaged = sb.toString();
            for (boolean kmsg : new boolean[] {false, true}) {
                try {
                    ParsedRecord p = kmsg ? AuditRecordParser.parseKmsg(damaged) : AuditRecordParser.parse(damaged);
                    p.fields().forEach(f -> p.value(f.key()).ifPresent(v -> { }));
                    assertThat(p.toRecord()).isNotNull();
                } catch (AuditParseException expected) {
                    assertThat(expected.getMessage()).isNotBlank();
                }
            }
        });
    }
}
