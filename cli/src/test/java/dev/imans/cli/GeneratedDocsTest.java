package dev.imans.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The manual page and the bash completion, generated from the commands and read by the real tools. */
class GeneratedDocsTest {
    @TempDir
    Path tmp;

    @Test
    void theManPageRendersWithEveryCommand() throws Exception {
        Tools.Result gen = Tools.imans("generate-man");
        assertThat(gen.rc()).isZero();
        Path page = Files.writeString(tmp.resolve("imans.1"), gen.out());
        Tools.Result man = Tools.run("sh", "-c", "MANWIDTH=100 man -l " + page + " | col -b");
        assertThat(man.rc()).as(man.err()).isZero();
        assertThat(man.err()).isEmpty();
        assertThat(man.out()).contains("IMANS(1)", "imans - namespace-aware IMA for Linux containers",
                "IMANS DAEMON", "IMANS POLICY CHECK", "IMANS NS ADD", "IMANS OCI-HOOK", "IMANS CHECK",
                "Usage: imans check", "--ns-view=PID");
        assertThat(man.out()).doesNotContain("GENERATE-MAN", "GENERATE-COMPLETION");
    }

    @Test
    void bashCompletesCommandsAndOptions() throws Exception {
        Tools.Result gen = Tools.imans("generate-completion");
        assertThat(gen.rc()).isZero();
        Path script = Files.writeString(tmp.resolve("imans.bash"), gen.out());
        assertThat(Tools.run("bash", "-n", script.toString()).rc()).isZero();
        assertThat(complete(script, "imans", "po")).isEqualTo("policy");
        assertThat(complete(script, "imans", "policy", "")).contains("check", "load", "show");
        assertThat(complete(script, "imans", "check", "--ns")).isEqualTo("--ns-view");
    }

    /** COMPREPLY for the words, the last being the one completed. */
    private static String complete(Path script, String... words) throws Exception {
        String line = String.join(" ", words);
        String array = String.join(" ", java.util.Arrays.stream(words).map(w -> "'" + w + "'").toList());
        Tools.Result r = Tools.run("bash", "-c", "source " + script + "; COMP_WORDS=(" + array + "); COMP_CWORD="
                + (words.length - 1) + "; COMP_LINE='" + line + "'; COMP_POINT=" + line.length()
                + "; _complete_imans; echo \"${COMPREPLY[*]}\"");
        assertThat(r.rc()).as(r.err()).isZero();
        return r.out().strip();
    }
}
