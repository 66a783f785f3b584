package dev.imans.cli.oci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class OciStateTest {
    private static OciState parse(String json) throws JsonException {
        return OciState.parse(json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void readsRuncsCreateRuntimeState() throws Exception {
        // As runc 1.1.5 wrote it to a createRuntime hook on this machine.
        OciState s = parse("{\"ociVersion\":\"1.0.2-dev\",\"id\":\"ctr1\",\"status\":\"creating\",\"pid\":11528,"
                + "\"bundle\":\"/tmp/b\",\"annotations\":{\"io.example/tenant\":\"t1\",\"org.example.policy\":\"strict\"}}");
        assertThat(s.ociVersion()).isEqualTo("1.0.2-dev");
        assertThat(s.id()).isEqualTo("ctr1");
        assertThat(s.status()).isEqualTo("creating");
        assertThat(s.pid()).hasValue(11528);
        assertThat(s.bundle()).isEqualTo("/tmp/b");
        assertThat(s.annotation("io.example/tenant")).hasValue("t1");
        assertThat(s.annotation("dev.imans.policy")).isEmpty();
    }

    @Test
    void readsAPoststopStateWithoutPidAndIgnoresUnknownMembers() throws Exception {
        OciState s = parse("{\"ociVersion\":\"1.0.2-dev\",\"id\":\"c\",\"status\":\"stopped\",\"bundle\":\"/b\","
                + "\"rootfs\":\"/b/rootfs\",\"created\":\"2026-01-01T00:00:00Z\",\"owner\":\"\"}");
        assertThat(s.pid()).isEmpty();
        assertThat(s.annotations()).isEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "`[]`|the state must be a JSON object, not array",
        "`{\"id\":\"c\",\"status\":\"creating\",\"bundle\":\"/b\"}`|\"ociVersion\" is missing",
        "`{\"ociVersion\":1,\"id\":\"c\",\"status\":\"creating\",\"bundle\":\"/b\"}`|\"ociVersion\" must be a string, not number",
        "`{\"ociVersion\":\"1\",\"id\":\"c\",\"status\":\"creating\",\"bundle\":\"/b\",\"pid\":\"12\"}`|\"pid\" must be a positive integer, not string",
        "`{\"ociVersion\":\"1\",\"id\":\"c\",\"status\":\"creating\",\"bundle\":\"/b\",\"pid\":-1}`|\"pid\" must be a positive integer, not -1",
        "`{\"ociVersion\":\"1\",\"id\":\"c\",\"status\":\"creating\",\"bundle\":\"/b\",\"pid\":1.5}`|\"pid\" must be a positive integer, not 1.5",
        "`{\"ociVersion\":\"1\",\"id\":\"c\",\"status\":\"creating\",\"bundle\":\"/b\",\"annotations\":[]}`|\"annotations\" must be an object, not array",
        "`{\"ociVersion\":\"1\",\"id\":\"c\",\"status\":\"creating\",\"bundle\":\"/b\",\"annotations\":{\"k\":true}}`|annotation \"k\" must be a string, not boolean",
    })
    void refusesStatesOfTheWrongShape(String json, String message) {
        assertThatThrownBy(() -> parse(json)).isInstanceOf(JsonException.class).hasMessage(message);
    }
}
