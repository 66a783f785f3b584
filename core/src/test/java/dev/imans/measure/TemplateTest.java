package dev.imans.measure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class TemplateTest {
    @Test
    void builtinsAreFoundByNameOrFormat() {
        assertThat(Template.lookup("ima-sig")).isSameAs(Template.IMA_SIG);
        assertThat(Template.lookup("d-ng|n-ng|sig")).isSameAs(Template.IMA_SIG);
        assertThat(Template.lookup("d|n")).isSameAs(Template.IMA);
        assertThat(Template.EVM_SIG.fields()).containsExactly(Field.D_NG, Field.N_NG, Field.EVMSIG,
                Field.XATTRNAMES, Field.XATTRLENGTHS, Field.XATTRVALUES, Field.IUID, Field.IGID, Field.IMODE);
        assertThat(Template.BUILTINS).extracting(Template::name).containsExactly(
                "ima", "ima-ng", "ima-sig", "ima-ngv2", "ima-sigv2", "ima-buf", "ima-modsig", "evm-sig");
    }

    @Test
    void customFormatsAreNamedByTheirFormatString() {
        Template t = Template.lookup("d-ng|n-ng|iuid");
        assertThat(t.name()).isEqualTo("d-ng|n-ng|iuid");
        assertThat(t.fields()).containsExactly(Field.D_NG, Field.N_NG, Field.IUID);
        assertThat(t.isIma()).isFalse();
        // A list names a template exactly as written, even one whose format is a built-in's.
        assertThat(Template.forListName("d-ng|n-ng").orElseThrow().name()).isEqualTo("d-ng|n-ng");
        assertThat(Template.forListName("ima-ng")).contains(Template.IMA_NG);
        assertThat(Template.forListName("no-such")).isEmpty();
    }

    @Test
    void badFormatsAreRejectedWithTheReason() {
        assertThatThrownBy(() -> Template.custom("d-ng|bogus")).isInstanceOf(TemplateException.class)
                .hasMessageContaining("unknown template field 'bogus'");
        assertThatThrownBy(() -> Template.custom("")).hasMessageContaining("empty");
        assertThatThrownBy(() -> Template.custom("d-ng||n-ng")).hasMessageContaining("unknown template field ''");
        assertThatThrownBy(() -> Template.custom("abcdefghijklmnopq")).hasMessageContaining("longer than 16");
        String sixteen = String.join("|", java.util.Collections.nCopies(16, "n-ng"));
        assertThatThrownBy(() -> Template.custom(sixteen)).hasMessageContaining("at most 15");
        String fifteen = String.join("|", java.util.Collections.nCopies(15, "n-ng"));
        assertThat(Template.custom(fifteen).fields()).hasSize(15);
        assertThatThrownBy(() -> new Template("x", "d-ng", List.of(Field.N_NG))).isInstanceOf(TemplateException.class);
    }
}
