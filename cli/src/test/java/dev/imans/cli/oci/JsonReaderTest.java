package dev.imans.cli.oci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class JsonReaderTest {
    @Test
    void readsEveryKindOfValue() throws Exception {
        JsonValue v = JsonReader.parse(" {\"a\": [1, -2.5e+3, 0, true, false, null, \"x\"], \"b\": {}, \"c\": []}\n");
        assertThat(v).isEqualTo(new JsonValue.JsonObject(Map.of(
                "a", new JsonValue.JsonArray(List.of(new JsonValue.JsonNumber("1"), new JsonValue.JsonNumber("-2.5e+3"),
                        new JsonValue.JsonNumber("0"), new JsonValue.JsonBoolean(true), new JsonValue.JsonBoolean(false),
                        new JsonValue.JsonNull(), new JsonValue.JsonString("x"))),
                "b", new JsonValue.JsonObject(Map.of()),
                "c", new JsonValue.JsonArray(List.of()))));
    }

    @Test
    void keepsMemberOrder() throws Exception {
        var o = (JsonValue.JsonObject) JsonReader.parse("{\"z\":1,\"a\":2,\"m\":3}");
        assertThat(o.members().keySet()).containsExactly("z", "a", "m");
    }

    @Test
    void resolvesEscapesAndSurrogatePairs() throws Exception {
        assertThat(JsonReader.parse("\"a\\nb\\t\\\"\\\\\\/\\b\\f\\r\\u0041\\u00e9\\ud83d\\ude00\""))
                .isEqualTo(new JsonValue.JsonString("a\nb\t\"\\/\b\f\rAé\uD83D\uDE00"));
        assertThat(JsonReader.parse("\"é😀\"".getBytes(StandardCharsets.UTF_8)))
                .isEqualTo(new JsonValue.JsonString("é😀"));
    }

    @Test
    void numbersKeepTheirLiteralAndConvertOnlyExactIntegers() throws Exception {
        assertThat(((JsonValue.JsonNumber) JsonReader.parse("11528")).asLong()).hasValue(11528);
        assertThat(((JsonValue.JsonNumber) JsonReader.parse("1.0")).asLong()).isEmpty();
        assertThat(((JsonValue.JsonNumber) JsonReader.parse("1e3")).asLong()).isEmpty();
        assertThat(((JsonValue.JsonNumber) JsonReader.parse("99999999999999999999")).asLong()).isEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "``|line 1, column 1: unexpected end of input, expected a value",
        "`{\"a\":1,}`|line 1, column 8: unexpected '}', expected a member name",
        "`[1,]`|line 1, column 4: unexpected ']', expected a value",
        "`{\"a\":1,\"a\":2}`|line 1, column 8: duplicate member \"a\"",
        "`{\"a\":1} x`|line 1, column 9: unexpected 'x' after the value",
        "`{\"a\":1}{}`|line 1, column 8: unexpected '{' after the value",
        "`// c\n{}`|line 1, column 1: unexpected '/', expected a value",
        "`{a:1}`|line 1, column 2: unexpected 'a', expected a member name",
        "`{'a':1}`|line 1, column 2: unexpected ''', expected a member name",
        "`01`|line 1, column 2: invalid number: leading zero",
        "`-`|line 1, column 2: invalid number",
        "`1.`|line 1, column 3: invalid number: digits must follow '.'",
        "`1e`|line 1, column 3: invalid number: digits must follow the exponent",
        "`+1`|line 1, column 1: unexpected '+', expected a value",
        "`NaN`|line 1, column 1: unexpected 'N', expected a value",
        "`tru`|line 1, column 1: unexpected 't', expected a value",
        "`\"abc`|line 1, column 5: unterminated string",
        "`\"a\\x\"`|line 1, column 4: invalid escape \\x",
        "`\"\\u12g4\"`|line 1, column 4: invalid \\u escape",
        "`\"\\ud83d\"`|line 1, column 8: lone surrogate \\ud83d",
        "`\"\\ude00\"`|line 1, column 8: lone surrogate \\ude00",
        "`{\n  \"a\" 1}`|line 2, column 7: unexpected '1', expected ':'",
    })
    void refusesWhatRfc8259Refuses(String text, String message) {
        assertThatThrownBy(() -> JsonReader.parse(text)).isInstanceOf(JsonException.class).hasMessage(message);
    }

    @Test
    void refusesRawControlCharactersInStrings() {
        assertThatThrownBy(() -> JsonReader.parse("\"a\nb\"")).hasMessage(
                "line 1, column 3: control character U+000A in a string (must be escaped)");
    }

    @Test
    void refusesLoneSurrogatesInStringInput() {
        assertThatThrownBy(() -> JsonReader.parse("\"a\uD83D\"")).hasMessage("line 1, column 3: lone surrogate U+D83D");
        assertThatThrownBy(() -> JsonReader.parse("\"\uDE00\"")).hasMessage("line 1, column 2: lone surrogate U+DE00");
    }

    @Test
    void refusesBytesThatAreNotUtf8AndAByteOrderMark() {
        assertThatThrownBy(() -> JsonReader.parse(new byte[] {'"', (byte) 0xff, '"'})).hasMessage("not UTF-8 text");
        assertThatThrownBy(() -> JsonReader.parse("\uFEFF{}".getBytes(StandardCharsets.UTF_8)))
                .hasMessage("line 1, column 1: unexpected 'U+FEFF', expected a value");
    }

    @Test
    void boundsNesting() throws Exception {
        String ok = "[".repeat(JsonReader.MAX_DEPTH) + "]".repeat(JsonReader.MAX_DEPTH);
        assertThat(JsonReader.parse(ok)).isInstanceOf(JsonValue.JsonArray.class);
        String deep = "[".repeat(100_000) + "]".repeat(100_000);
        assertThatThrownBy(() -> JsonReader.parse(deep)).hasMessageContaining("nested deeper than 64 levels");
    }
}
