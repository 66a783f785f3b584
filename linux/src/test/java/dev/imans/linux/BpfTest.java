package dev.imans.linux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** bpf(2) as the exec guard uses it, on the real kernel. */
class BpfTest {
    @Test
    void aRefusedProgramComesWithTheVerifiersReason() throws Exception {
        int tp = Btf.vmlinux().typedef(InternalExecGuard.TRACEPOINT).orElseThrow();
        // r0 is never set before exit.
        byte[] bad = new BpfAsm().exit().assemble();
        assertThatThrownBy(() -> Bpf.progLoad(Bpf.PROG_TYPE_TRACING, Bpf.ATTACH_TRACE_RAW_TP, tp, bad, "bad"))
                .isInstanceOfSatisfying(Bpf.LoadException.class, e -> {
                    assertThat(e.errnoValue()).isEqualTo(Errno.EACCES);
                    assertThat(e.verifierLog()).contains("R0 !read_ok");
                });
        byte[] good = new BpfAsm().mov(BpfAsm.R0, 0).exit().assemble();
        try (Fd prog = Bpf.progLoad(Bpf.PROG_TYPE_TRACING, Bpf.ATTACH_TRACE_RAW_TP, tp, good, "good")) {
            assertThat(prog.value()).isPositive();
        }
    }

    @Test
    void aHashMapKeepsWhatIsSetAndForgetsWhatIsDeleted() throws Exception {
        try (Fd map = Bpf.mapCreate(Bpf.MAP_TYPE_HASH, 4, 4, 8, "t")) {
            byte[] key = {1, 0, 0, 0};
            byte[] value = new byte[4];
            assertThat(Bpf.mapLookup(map, key, value)).isFalse();
            Bpf.mapUpdate(map, key, new byte[] {7, 0, 0, 0});
            assertThat(Bpf.mapLookup(map, key, value)).isTrue();
            assertThat(value).containsExactly(7, 0, 0, 0);
            assertThat(Bpf.mapDelete(map, key)).isTrue();
            assertThat(Bpf.mapDelete(map, key)).isFalse();
        }
    }
}
