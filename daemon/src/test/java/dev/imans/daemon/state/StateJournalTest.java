package dev.imans.daemon.state;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.imans.ns.NamespaceId;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StateJournalTest {
    private static final String BOOT = "0d7f1e4c-5a0b-4f43-9a3e-2f9d8c1b7a66";

    @TempDir
    Path dir;

    @Test
    void savesAndLoadsWhatItSaved() throws IOException {
        StateJournal j = new StateJournal(dir.resolve("state-dir"));
        assertThat(j.load()).isEmpty();
        JournalState s = new JournalState(List.of("appraise func=BPRM_CHECK"),
                Map.of(new NamespaceId(4026532208L), List.of("appraise fsmagic=0x01021994 fowner=71452",
                        "appraise func=MODULE_CHECK"), new NamespaceId(4026532300L), List.of()),
                Optional.of(BOOT), Map.of(new NamespaceId(4026532208L), 41L, new NamespaceId(4026532300L), -2L));
        j.save(s);
        assertThat(j.load()).contains(s);
        assertThat(Files.readString(j.file())).contains("imans-state 2\nboot " + BOOT + "\nhost\n"
                + "\tappraise func=BPRM_CHECK\n"
                + "namespace 4026532208 id 41\n\tappraise fsmagic=0x01021994 fowner=71452\n\tappraise func=MODULE_CHECK\n"
                + "namespace 4026532300 id 18446744073709551614\n");
        assertThat(Files.getPosixFilePermissions(j.file())).hasSize(2);
        assertThat(dir.resolve("state-dir").resolve("state.tmp")).doesNotExist();
    }

    @Test
    void namespaceKeysFollowTheirNamespacesRules() throws IOException {
        StateJournal j = new StateJournal(dir.resolve("keys-dir"));
        NamespaceId a = new NamespaceId(4026532208L);
        NamespaceId b = new NamespaceId(4026532300L);
        JournalState s = new JournalState(List.of(), Map.of(a, List.of("appraise appraise_type=imasig"), b, List.of()),
                Optional.of(BOOT), Map.of(a, 41L, b, 42L), Map.of(a, List.of("MIIBAA==", "MIICAA=="), b, List.of("MIIDAA==")));
        j.save(s);
        assertThat(j.load()).contains(s);
        assertThat(Files.readString(j.file())).contains("namespace 4026532208 id 41\n\tappraise appraise_type=imasig\n"
                + "key MIIBAA==\nkey MIICAA==\nnamespace 4026532300 id 42\nkey MIIDAA==\n");
        Files.writeString(j.file(), "imans-state 2\nhost\nkey MIIBAA==\n");
        assertThatThrownBy(j::load).hasMessageContaining(":3: unknown line");
        Files.writeString(j.file(), "imans-state 2\nnamespace 4026532208\nkey not base64!\n");
        assertThatThrownBy(j::load).hasMessageContaining(":3: key line is not base64");
    }

    @Test
    void theFirstFormatIsReadWithoutIdentities() throws IOException {
        StateJournal j = new StateJournal(dir);
        Files.writeString(j.file(), "imans-state 1\nhost\n\tmeasure func=BPRM_CHECK\nnamespace 4026532208\n"
                + "\tappraise fsmagic=0x01021994\n");
        JournalState s = j.load().orElseThrow();
        assertThat(s.namespaces()).containsOnlyKeys(new NamespaceId(4026532208L));
        assertThat(s.mountNamespaceIds()).isEmpty();
        assertThat(s.bootId()).isEmpty();
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
            {"imans-state 1\nhello\n", ":2: unknown line"},
            {"imans-state 1\nnamespace 5 id 7\n", ":2: invalid namespace line"},
            {"imans-state 2\nnamespace 5 id x\n", ":2: "},
            {"imans-state 2\nnamespace 5 ident 7\n", ":2: invalid namespace line"},
            {"imans-state 2\nboot nonsense\n", ":2: invalid boot id"},
            {"imans-state 2\nhost\nboot " + BOOT + "\n", ":3: boot line out of place"}}) {
            Files.writeString(j.file(), c[0]);
            assertThatThrownBy(j::load).isInstanceOf(IOException.class).hasMessageContaining(c[1]);
        }
    }
}
