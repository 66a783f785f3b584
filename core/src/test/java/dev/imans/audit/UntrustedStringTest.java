package dev.imans.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class UntrustedStringTest {

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', quoteCharacter = '\'', textBlock = """
            # plain printable ASCII is quoted
            /tmp/foo               | "/tmp/foo"
            cat                    | "cat"
            tmpfs                  | "tmpfs"
            # a space forces hex: "/tmp/a b"
            /tmp/a b               | 2F746D702F612062
            # a double quote forces hex
            'a"b'                  | 612262
            # the edges of the printable range: '!' and '~' stay quoted
            !~                     | "!~"
            # a lone space
            ' '                    | 20
            """)
    void encodesLikeAuditLogUntrustedstring(String input, String expected) {
        assertThat(UntrustedString.of(input).encode()).isEqualTo(expected);
    }

    @Test
    void controlCharactersForceUpperCaseHex() {
        assertThat(UntrustedString.of("a\nb").encode()).isEqualTo("610A62");
        assertThat(UntrustedString.of("a\tb").encode()).isEqualTo("610962");
        assertThat(UntrustedString.of("a\rb").encode()).isEqualTo("610D62");
        assertThat(UntrustedString.ofBytes(new byte[] {'x', 0x7f}).encode()).isEqualTo("787F");
        assertThat(UntrustedString.ofBytes(new byte[] {0x1f}).encode()).isEqualTo("1F");
    }

    @Test
    void nonAsciiIsHexOfItsUtf8Bytes() {
        // "é" is C3 A9 in UTF-8; the kernel sees bytes, not characters.
        assertThat(UntrustedString.of("/tmp/caf\u00e9").encode()).isEqualTo("2F746D702F636166C3A9");
        assertThat(UntrustedString.ofBytes(new byte[] {(byte) 0xff, (byte) 0x80}).encode()).isEqualTo("FF80");
    }

    @Test
    void emptyStringIsTwoQuotes() {
        // audit_string_contains_control finds nothing in zero bytes, so audit_log_n_string writes "".
        assertThat(UntrustedString.of("").encode()).isEqualTo("\"\"");
        assertThat(UntrustedString.decode("\"\"")).isEqualTo(UntrustedString.of(""));
    }

    @Test
    void decodeInvertsEncode() {
        for (String s : new String[] {"/tmp/foo", "a b", "a\"b", "caf\u00e9", "\n", "x\u007f"}) {
            UntrustedString u = UntrustedString.of(s);
            assertThat(UntrustedString.decode(u.encode())).isEqualTo(u);
        }
        assertThat(UntrustedString.decode("2f746d70")).hasToString("/tmp");
    }

    @Test
    void decodeRejectsWhatIsNeitherQuotedNorHex() {
        assertThatThrownBy(() -> UntrustedString.decode("abc")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("abc");
        assertThatThrownBy(() -> UntrustedString.decode("zz")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> UntrustedString.decode("")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void bytesAreCopied() {
        byte[] b = {'a'};
        UntrustedString u = UntrustedString.ofBytes(b);
        b[0] = ' ';
        assertThat(u.encode()).isEqualTo("\"a\"");
        u.bytes()[0] = ' ';
        assertThat(u.encode()).isEqualTo("\"a\"");
    }
}
