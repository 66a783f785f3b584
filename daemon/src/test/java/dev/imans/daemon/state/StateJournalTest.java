package dev.imans.daemon.state;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.imans.ns.NamespaceId;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StateJournalTest {
    @TempDir
    Path dir;

    @Test
    void savesAndLoadsWhatItSaved() throws IOException {
        StateJournal j = new StateJournal(dir.resolve("state-dir"));
        assertThat(j.load()).isEmpty();
        JournalState s = new JournalState(List.of("appraise func=BPRM_CHECK"),
                Map.of(new NamespaceId(4026532208L), List.of("appraise fsmagic=0x01021994 fowner=71452",
                        "appraise func=MODULE_CHECK"), new NamespaceId(4026532300L), List.of()));
        j.save(s);
        assertThat(j.load()).contains(s);
        assertThat(Files.readString(j.file())).contains("imans-state 1\nhost\n\tappraise func=BPRM_CHECK\n"
                + "namespace 4026532208\n\tappraise fsmagic=0x01021994 fowner=71452\n\tappraise func=MODULE_CHECK\n"
                + "namespace 4026532300\n");
        assertThat(Files.getPosixFilePermissions(j.file())).hasSize(2);
        assertThat(dir.resolve("state-dir").resolve("state.tmp")).doesNotExist();
    }

    @Test
    void aSecondSaveReplacesTheFirst() throws IOException {
        StateJournal j = new StateJournal(dir);
        j.save(new JournalState(List.of("measure func=BPRM_CHECK"), Map.of()));
        j.save(JournalState.empty());
        assertThat(j.load()).contains(JournalState.empty());
    }

    @Test
    void damagedFilesAreRefusedWithTheLine() throws IOException {
        StateJournal j = new StateJournal(dir);
        for (String[] c : new String[][] {
            {"", ":1: empty state file"},
            {"something else\n", ":1: not an imans state file"},
            {"imans-state 1\n\tmeasure func=BPRM_CHECK\n", ":2: rule line outside a section"},
            {"imans-state 1\nnamespace 12x\n", ":2: invalid namespace id"},
            {"imans-state 1\nnamespace 5\nnamespace 5\n", ":3: namespace 5 listed twice"},
            {"imans-state 1\nhost\nhost\n", ":3: second host section"},
            {"imans-state 1\nhello\n", ":2: unknown line"}}) {
            Files.writeString(j.file(), c[0]);
            assertThatThrownBy(j::load).isInstanceOf(IOException.class).hasMessageContaining(c[1]);
        }
    }
}
