package dev.imans.daemon.ns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.imans.policy.ActiveLsms;
import dev.imans.policy.KernelProfile;
import dev.imans.policy.LsmKey;
import dev.imans.policy.PolicyException;
import dev.imans.policy.PolicyParser;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Which LSM conditions the daemon's policy writes accept: the reference kernel's and the running kernel's. */
class PolicyProfileTest {
    @Test
    void theRunningKernelsLsmsAddTheirConditions() throws PolicyException {
        KernelProfile selinux = NamespaceService.profile(Optional.of(ActiveLsms.parse("capability,selinux")));
        assertThat(selinux.lsmRules()).containsExactlyInAnyOrder(LsmKey.values());
        assertThat(PolicyParser.parse("appraise obj_type=etc_t subj_type=init_t", selinux).rules()).hasSize(1);
        KernelProfile none = NamespaceService.profile(Optional.of(ActiveLsms.parse("lockdown,capability,landlock")));
        assertThat(none.lsmRules()).isEqualTo(KernelProfile.defaults().lsmRules());
        assertThatThrownBy(() -> PolicyParser.parse("appraise obj_type=etc_t", none))
                .isInstanceOf(PolicyException.class).hasMessageContaining("not supported by the active LSM");
        assertThat(NamespaceService.profile(Optional.empty())).isEqualTo(KernelProfile.defaults());
    }
}
