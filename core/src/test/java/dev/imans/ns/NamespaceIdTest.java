package dev.imans.ns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class NamespaceIdTest {
    @Test
    void parsesWhatEchoWrites() {
        assertThat(NamespaceId.parse("4026532208\n").inode()).isEqualTo(4026532208L);
        assertThat(NamespaceId.parse("4026532208").toString()).isEqualTo("4026532208");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "\n", "0", "abc", "4026532208\n\n", " 4026532208", "4026532208 ", "-1", "+5",
        "4294967296", "99999999999", "mnt:[4026532208]", "4026532208\r\n"})
    void rejectsAnythingElse(String text) {
        assertThatThrownBy(() -> NamespaceId.parse(text)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("invalid namespace id");
    }

    @Test
    void readsNsfsLinks() {
        assertThat(NamespaceId.fromLink("mnt:[4026531841]")).isEqualTo(new NamespaceId(4026531841L));
        assertThatThrownBy(() -> NamespaceId.fromLink("user:[4026531837]"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void highestInodeNumberIsUnsignedInt() {
        assertThat(NamespaceId.parse("4294967295").inode()).isEqualTo(0xffff_ffffL);
    }
}
