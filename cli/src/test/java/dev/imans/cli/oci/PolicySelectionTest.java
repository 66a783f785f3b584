package dev.imans.cli.oci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolicySelectionTest {
    @TempDir
    Path tmp;

    Path dir;
    PolicySelection selection;

    @BeforeEach
    void policies() throws Exception {
        dir = Files.createDirectories(tmp.resolve("policies"));
        Files.writeString(dir.resolve("web.policy"), "appraise fsmagic=0x01021994\n");
        Files.writeString(tmp.resolve("secret"), "root:x:0:0\n");
        selection = new PolicySelection(dir, Optional.empty(), true);
    }

    private static OciState state(Map<String, String> annotations) {
        return new OciState("1.0.2", "c1", "creating", OptionalLong.of(1), "/b", annotations);
    }

    private static String text(Optional<ContainerPolicy> p) {
        return new String(p.orElseThrow().bytes(), StandardCharsets.UTF_8);
    }

    @Test
    void annotationTextIsThePolicy() throws Exception {
        var p = selection.select(state(Map.of(PolicySelection.POLICY, "measure func=BPRM_CHECK\nappraise fowner=0")));
        assertThat(p.orElseThrow().origin()).isEqualTo("annotation dev.imans.policy");
        assertThat(text(p)).isEqualTo("measure func=BPRM_CHECK\nappraise fowner=0");
    }

    @Test
    void annotationRulesMaySurvivePodmanOnOneLine() throws Exception {
        String expected = "measure func=BPRM_CHECK\nappraise fowner=0";
        assertThat(text(selection.select(state(Map.of(PolicySelection.POLICY,
                "measure func=BPRM_CHECK;appraise fowner=0"))))).isEqualTo(expected);
        assertThat(text(selection.select(state(Map.of(PolicySelection.POLICY,
                "measure func=BPRM_CHECK\\nappraise fowner=0"))))).isEqualTo(expected);
    }

    @Test
    void fileAnnotationNamesAFileInThePolicyDirectoryOrAnAbsolutePath() throws Exception {
        var byName = selection.select(state(Map.of(PolicySelection.POLICY_FILE, "web.policy")));
        assertThat(byName.orElseThrow().origin()).isEqualTo(dir.resolve("web.policy").toString());
        assertThat(text(byName)).isEqualTo("appraise fsmagic=0x01021994\n");
        var byPath = selection.select(state(Map.of(PolicySelection.POLICY_FILE, dir.resolve("web.policy").toString())));
        assertThat(text(byPath)).isEqualTo("appraise fsmagic=0x01021994\n");
    }

    @Test
    void namesCannotLeaveThePolicyDirectory() {
        for (String bad : new String[] {"../secret", "sub/web.policy", "..", ".hidden", "-x", ""}) {
            assertThatThrownBy(() -> selection.select(state(Map.of(PolicySelection.POLICY_FILE, bad))))
                    .as(bad).isInstanceOf(HookException.class).hasMessageContaining("is neither an absolute path nor a file name");
        }
    }

    @Test
    void absolutePathsCanBeForbidden() {
        var strict = new PolicySelection(dir, Optional.empty(), false);
        assertThatThrownBy(() -> strict.select(state(Map.of(PolicySelection.POLICY_FILE, tmp.resolve("secret").toString()))))
                .hasMessageContaining("absolute paths are not allowed here");
    }

    @Test
    void missingFilesAndDirectoriesAreNamed() {
        assertThatThrownBy(() -> selection.select(state(Map.of(PolicySelection.POLICY_FILE, "nope.policy"))))
                .hasMessage("policy file " + dir.resolve("nope.policy") + " does not exist");
        assertThatThrownBy(() -> selection.select(state(Map.of(PolicySelection.POLICY_FILE, dir.toString()))))
                .hasMessage("policy file " + dir + " is not a regular file");
    }

    @Test
    void bothAnnotationsAreAMistake() {
        assertThatThrownBy(() -> selection.select(state(Map.of(PolicySelection.POLICY, "appraise fowner=0",
                PolicySelection.POLICY_FILE, "web.policy"))))
                .hasMessage("both annotations dev.imans.policy and dev.imans.policy-file are set; set one");
    }

    @Test
    void theDefaultPolicyAppliesOnlyWithoutAnnotations() throws Exception {
        Path def = Files.writeString(tmp.resolve("default.policy"), "appraise func=BPRM_CHECK\n");
        var withDefault = new PolicySelection(dir, Optional.of(def), true);
        assertThat(withDefault.select(state(Map.of())).orElseThrow().origin()).isEqualTo(def.toString());
        assertThat(text(withDefault.select(state(Map.of(PolicySelection.POLICY, "appraise fowner=0")))))
                .isEqualTo("appraise fowner=0");
        assertThat(selection.select(state(Map.of("other", "x")))).isEmpty();
    }

    @Test
    void oversizedFilesAreRefused() throws Exception {
        Files.write(dir.resolve("big"), new byte[PolicySelection.MAX_BYTES + 1]);
        assertThatThrownBy(() -> selection.select(state(Map.of(PolicySelection.POLICY_FILE, "big"))))
                .hasMessageContaining("is larger than 1048576 bytes");
    }
}
