package dev.imans.cli.oci;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** {@code examples/oci/imans-hook.json}, the hook definition for podman's {@code --hooks-dir}. */
class ExampleHookTest {
    static final Path EXAMPLE = Launcher.IMANS.getParent().getParent().resolve("examples/oci/imans-hook.json");

    @Test
    void isAHookDefinitionForCreateRuntimeThatMatchesBothAnnotationsOnly() throws Exception {
        var o = (JsonValue.JsonObject) JsonReader.parse(Files.readAllBytes(EXAMPLE));
        assertThat(o.members().get("version")).isEqualTo(new JsonValue.JsonString("1.0.0"));
        assertThat(o.members().get("stages")).isEqualTo(new JsonValue.JsonArray(
                List.of(new JsonValue.JsonString("createRuntime"))));
        var hook = (JsonValue.JsonObject) o.members().get("hook");
        assertThat(((JsonValue.JsonString) hook.members().get("path")).value()).endsWith("/bin/imans").startsWith("/");
        assertThat(((JsonValue.JsonArray) hook.members().get("args")).elements()).startsWith(
                new JsonValue.JsonString("imans"), new JsonValue.JsonString("oci-hook"));
        var when = (JsonValue.JsonObject) ((JsonValue.JsonObject) o.members().get("when")).members().get("annotations");
        assertThat(when.members()).hasSize(1);
        Map.Entry<String, JsonValue> rule = when.members().entrySet().iterator().next();
        // podman's regular expressions are Go's RE2; these simple ones mean the same in Java.
        Pattern key = Pattern.compile(rule.getKey());
        Pattern value = Pattern.compile(((JsonValue.JsonString) rule.getValue()).value());
        assertThat(key.matcher(PolicySelection.POLICY).find()).isTrue();
        assertThat(key.matcher(PolicySelection.POLICY_FILE).find()).isTrue();
        assertThat(key.matcher("dev.imans.policyx").find()).isFalse();
        assertThat(key.matcher("devximans.policy").find()).isFalse();
        assertThat(value.matcher("appraise fowner=0").find()).isTrue();
    }
}
