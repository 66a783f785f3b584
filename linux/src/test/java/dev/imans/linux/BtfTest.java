package dev.imans.linux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import org.junit.jupiter.api.Test;

/** The running kernel's BTF, read as the exec guard reads it. */
class BtfTest {
    @Test
    void findsFunctionsTypedefsAndMembersThroughAnonymousUnions() throws IOException {
        Btf btf = Btf.vmlinux();
        assertThat(btf.function("security_bprm_check")).isPresent();
        assertThat(btf.typedef(InternalExecGuard.TRACEPOINT)).isPresent();
        assertThat(btf.function(InternalExecGuard.TRACEPOINT)).as("a typedef is not a function").isEmpty();
        // struct qstr keeps name after an anonymous union of hash and len.
        assertThat(btf.offset("qstr", "name")).isEqualTo(8);
        assertThat(btf.offset("dentry", "d_name.name")).isEqualTo(btf.offset("dentry", "d_name") + 8);
        assertThat(btf.size("super_block", "s_magic")).isEqualTo(8);
        assertThat(btf.size("mnt_namespace", "ns.inum")).isEqualTo(4);
        assertThat(btf.offset("path", "dentry")).isEqualTo(8);
    }

    @Test
    void whatIsNotThereIsSaidClearly() throws IOException {
        Btf btf = Btf.vmlinux();
        assertThatThrownBy(() -> btf.offset("super_block", "s_nothing")).isInstanceOf(IOException.class)
                .hasMessage("struct super_block has no member s_nothing in this kernel");
        assertThatThrownBy(() -> btf.offset("no_such_struct", "x")).isInstanceOf(IOException.class)
                .hasMessage("this kernel's BTF has no struct no_such_struct");
        assertThatThrownBy(() -> Btf.parse(new byte[] {1, 2, 3})).isInstanceOf(IOException.class);
    }
}
